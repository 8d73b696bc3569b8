#!/usr/bin/python3
"""Application 3 (cohort study with ethical review) on one machine, end to end, by running
examples/apps/cohort.sh local: the sponsor's institution's node and a second owner
institution's node started beside it (scripts/cluster.sh up 2). Checks: the script runs to the
end; nothing ran before the committee's two approvals and a stranger could neither approve nor
opt in (the script's refusals); round 1's federated analysis across the two nodes gives n,
means and standard deviations equal to numpy's over the rows of the twelve opted-in patients
only (the other eight rows of the tables left out); patient H1_0 withdraws after round 1 and
round 2 equals numpy's without H1_0's row; a third round is refused; the study's state on the
second node: two rounds, twelve opted in, one withdrawn, completed."""

import csv
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import (ROOT, Tap, cluster_env, http_json,  # noqa: E402
                       read_cluster_env, run_cluster, tls_context)

PASS = "cluster"


def main():
    run_cluster(Tap(), "leben-cohort-local-", cluster_env(PASS), run, by_script=True)


def run(t, e, cluster):
    r = subprocess.run([os.path.join(ROOT, "examples", "apps", "cohort.sh"), "local"], env=e,
                       capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    if not t.ok(r.returncode == 0, "examples/apps/cohort.sh local runs to the end",
                r.stdout[-2000:] + r.stderr[-2000:]):
        return
    refusals = [x for x in r.stdout.splitlines() if x.startswith("   refused: leben ")]
    t.ok(len(refusals) == 6 and sum("LB_EDENIED" in x for x in refusals) >= 3,
         "six refusals: rounds and an opt-in before approval, a stranger approving and opting "
         "in, a round past the protocol's last", refusals)

    rows = {}
    for i in (1, 2):
        with open(os.path.join(cluster, "bp%d.csv" % i)) as f:
            for x in csv.DictReader(f):
                rows[x["patient_id"]] = (float(x["age"]), float(x["sbp"]))
    t.eq(len(rows), 20, "two institutions' tables of ten patients each")
    opted = ["H%d_%d" % (i, n) for i in (1, 2) for n in range(6)]

    def check(n, excl, what):
        try:
            res = json.load(open(os.path.join(cluster, "round-%d.json" % n)))["result"]
        except (OSError, ValueError, KeyError) as err:
            return t.ok(False, what, repr(err))
        ref = np.array([rows[p] for p in opted if p not in excl])
        cols = res.get("columns") or []
        good = res.get("n") == len(ref) and len(cols) == 2
        for c, col in enumerate(cols):
            good &= abs(col["mean"] - float(np.mean(ref[:, c]))) < 1e-6
            good &= abs(col["sd"] - float(np.std(ref[:, c], ddof=1))) < 1e-6
        t.ok(good, what, (res, len(ref), ref.mean(axis=0).tolist()))

    check(1, [], "round 1 across the two nodes equals numpy over the 12 opted-in patients' rows "
          "(not the 8 who were not invited)")
    check(2, ["H1_0"], "round 2 equals numpy without the withdrawn patient H1_0")

    ce = read_cluster_env(cluster)
    home2 = os.path.join(cluster, "node-2")
    cid = ""
    for line in out.splitlines():
        if line.startswith("cohort ") and ", protocol hash " in line:
            cid = line.split()[1].rstrip(",")
    st, j = http_json(ce["NODE_API_2"] + "/v1/cohort/" + cid,
                      ctx=tls_context(os.path.join(home2, "tls")))
    t.eq((st, len(j.get("rounds") or []), j.get("opted_in"), j.get("withdrawn"), j.get("status")),
         (200, 2, 12, 1, "completed"),
         "the second node's view: two rounds, twelve opted in, one withdrawn, completed")


if __name__ == "__main__":
    main()
