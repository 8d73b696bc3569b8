#!/usr/bin/env python3
"""Noise on means through `leben sandbox run` (the real sandbox and the stats algorithm): with
epsilon and bounds for every numeric column the result is released with noised means inside
their bounds, no sd/min/max, and integer counts; a column without bounds withholds the whole
result (exit 1, the column named) and spends nothing; with a budget database, a budget of 2 and
epsilon 1 allow exactly two releases, the third is withheld as exhausted. The exact means
(computed here from the table) differ from the released ones by amounts consistent with the
Laplace scale (|deviation| < 40 scales, a bound missed with probability e^-40)."""

import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Tap, run_cli  # noqa: E402


def main():
    t = Tap()
    with tempfile.TemporaryDirectory() as d:
        rnd = random.Random(7)
        rows = [(rnd.randint(18, 90), rnd.randint(40, 120)) for _ in range(300)]
        table = os.path.join(d, "t.csv")
        with open(table, "w") as f:
            f.write("age,weight\n" + "".join("%d,%d\n" % r for r in rows))
        exact = {"age": sum(r[0] for r in rows) / len(rows),
                 "weight": sum(r[1] for r in rows) / len(rows)}
        bounds = {"age": [0, 120], "weight": [0, 300]}

        def policy(name, obj):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                json.dump(obj, f)
            return p

        only_age = policy("p1.json", {"epsilon": 1, "budget": 5, "bounds": {"age": [0, 120]}})
        both = policy("p2.json", {"epsilon": 1, "budget": 2, "bounds": bounds})
        db = os.path.join(d, "budget.db")
        base = ["sandbox", "run", "--input", table, "--algorithm", "stats", "--user", "u",
                "--asset", "a", "--budget-db", db]

        r = run_cli(base + ["--policy", only_age])
        t.ok(r.returncode == 1 and "columns[1].mean has no clamping bounds" in r.stderr
             and '"weight"' in r.stderr, "a mean without bounds withholds the result", r.stderr)

        for i in range(2):
            r = run_cli(base + ["--policy", both, "--json"])
            ok = r.returncode == 0
            t.ok(ok, "release %d within the budget" % (i + 1), r.stderr)
            if not ok:
                continue
            res = json.loads(r.stdout)["result"]
            cols = {c["name"]: c for c in res["columns"]}
            k = 1 + 2 * len(cols)  # top n, and each column's n and mean
            for name, c in cols.items():
                lo, hi = bounds[name]
                scale = k * (hi - lo) / len(rows)
                t.ok(lo <= c["mean"] <= hi and c["mean"] != exact[name]
                     and abs(c["mean"] - exact[name]) < 40 * scale,
                     "release %d: %s mean noised within bounds (%.3f vs %.3f, scale %.3f)"
                     % (i + 1, name, c["mean"], exact[name], scale))
                t.ok("sd" not in c and "min" not in c and "max" not in c
                     and isinstance(c["n"], int), "release %d: %s has no sd/min/max" % (i + 1, name))
        r = run_cli(base + ["--policy", both])
        t.ok(r.returncode == 1 and "exhausted" in r.stderr,
             "third release withheld: budget 2 spent at epsilon 1 each", r.stderr)
    t.done()


if __name__ == "__main__":
    main()
