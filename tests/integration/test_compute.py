#!/usr/bin/env python3
"""The on-chain sandbox through a real node: `leben compute try` and `run` of a fee split and
an eligibility rule give the outputs that an independent Python evaluation of the same
arithmetic gives (floor division, split remainder to the first shares); a published program
runs by hash; a run over its step budget, over the memory cap, with a malformed program
(refused with line and column), a failed `require` or an unknown program hash is refused and
leaves the business chain's height unchanged; the stored run is served by the API and `leben
compute show`; after the node stops, `leben verify` replays the chains (every compute.run
evaluated again) and passes."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Tap, run_cli, run_node  # noqa: E402

FEE = """# split a fee among the owners by their record counts
require total > 0
out shares = split(total, weights)
out per_mille = muldiv(shares[0], 1000, total)
"""

RULE = """let adult = age >= 18
out eligible = if adult and hba1c >= 48 then 1 else 0
out cells_ok = countge(cells, 10) == len(cells)
out mean_x100 = sum(cells) * 100 / len(cells)
"""


def py_split(total, w):
    tw = sum(w)
    s = [total * x // tw for x in w]
    i = 0
    while sum(s) < total:
        if w[i] > 0:
            s[i] += 1
        i = (i + 1) % len(w)
    return s


def height(node):
    st, j = node.get("/v1/status")
    return j["chains"]["business"]["height"]


def main():
    t = Tap()
    r = run_cli(["compute", "--help"])
    t.ok(r.returncode == 0 and "usage: leben compute" in r.stdout, "compute --help", r.stderr)
    run_node(run, tmp="leben-compute-", t=t, verify="leben verify replays the compute runs")


def run(t, node, d):
    fee = os.path.join(d, "fee.oc")
    rule = os.path.join(d, "rule.oc")
    open(fee, "w").write(FEE)
    open(rule, "w").write(RULE)
    total, w = 100003, [17, 5, 0, 9]
    want = py_split(total, w)
    r = run_cli(["compute", "try", fee, "total=%d" % total, "weights=" + ",".join(map(str, w)),
                 "--json"])
    tried = json.loads(r.stdout) if r.returncode == 0 else {}
    t.eq(tried.get("outputs", {}).get("shares"), want, "try: split matches the reference")
    steps = tried.get("steps", 0)

    h0 = height(node)
    r = node.cli(["compute", "run", fee, "total=%d" % total, "weights=" + ",".join(map(str, w)),
                  "--from", "clinic", "--budget", str(steps), "--json"])
    ran = json.loads(r.stdout) if r.returncode == 0 else {}
    t.ok(r.returncode == 0, "run with exactly the steps `try` counted", r.stderr)
    t.eq(ran.get("outputs", {}).get("shares"), want, "run: stored split matches the reference")
    t.eq(ran.get("outputs", {}).get("per_mille"), want[0] * 1000 // total, "run: muldiv")
    t.eq(ran.get("steps"), steps, "the node counted the same steps as `try`")
    t.eq(height(node), h0 + 1, "one block for the run")
    st, j = node.get("/v1/compute/runs/" + ran.get("run", "00" * 32))
    t.ok(st == 200 and j == ran, "GET /v1/compute/runs/{id} serves the stored run", j)
    r = node.cli(["compute", "show", ran.get("run", ""), "--json"])
    t.ok(r.returncode == 0 and json.loads(r.stdout) == ran, "compute show", r.stderr)

    # refusals: nothing is recorded
    h1 = height(node)
    r = node.cli(["compute", "run", fee, "total=%d" % total, "weights=" + ",".join(map(str, w)),
                  "--from", "clinic", "--budget", str(steps - 1)])
    t.ok(r.returncode != 0 and "step budget of %d exhausted" % (steps - 1) in r.stderr,
         "one step short: refused", r.stderr)
    r = node.cli(["compute", "run", fee, "total=0", "weights=1", "--from", "clinic"])
    t.ok(r.returncode != 0 and "requirement not met" in r.stderr, "failed require refused",
         r.stderr)
    big = os.path.join(d, "big.oc")
    open(big, "w").write("out n = len(range(50000))\n")
    r = node.cli(["compute", "run", big, "--from", "clinic", "--budget", "1000000"])
    t.ok(r.returncode != 0 and "memory cap" in r.stderr, "memory cap refused", r.stderr)
    bad = os.path.join(d, "bad.oc")
    open(bad, "w").write("let a = 1\nout b = a *\n")
    r = node.cli(["compute", "run", bad, "--from", "clinic"])
    t.ok(r.returncode != 0 and "line 2, column 12" in r.stderr,
         "malformed program refused with line and column (CLI)", r.stderr)
    r = node.cli(["compute", "run", "--hash", "ab" * 32, "--from", "clinic"])
    t.ok(r.returncode != 0 and "no published program" in r.stderr, "unknown hash refused",
         r.stderr)
    t.eq(height(node), h1, "refusals recorded nothing")

    # publish and run by hash
    r = node.cli(["compute", "publish", rule, "--from", "clinic", "--json"])
    pub = json.loads(r.stdout) if r.returncode == 0 else {}
    t.ok(r.returncode == 0 and len(pub.get("program_hash", "")) == 64, "publish", r.stderr)
    st, j = node.get("/v1/compute/programs/" + pub.get("program_hash", "00" * 32))
    t.ok(st == 200 and j.get("program") == RULE, "GET /v1/compute/programs/{hash}", j)
    r = node.cli(["compute", "publish", rule, "--from", "clinic"])
    t.ok(r.returncode != 0 and "already published" in r.stderr, "publish twice refused",
         r.stderr)
    cells = [12, 30, 10, 11]
    r = node.cli(["compute", "run", "--hash", pub.get("program_hash", ""), "age=44", "hba1c=52",
                  "cells=" + ",".join(map(str, cells)), "--from", "clinic", "--json"])
    ran = json.loads(r.stdout) if r.returncode == 0 else {}
    t.eq(ran.get("outputs"), {"eligible": 1, "cells_ok": 1,
                              "mean_x100": sum(cells) * 100 // len(cells)},
         "run by hash: rule outputs match the reference")
    st, j = node.get("/v1/compute/runs/" + "cd" * 32)
    t.eq(st, 404, "an unknown run is 404")


if __name__ == "__main__":
    main()
