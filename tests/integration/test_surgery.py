#!/usr/bin/python3
"""Surgical quality control (`leben surgery`) against a direct computation with numpy on the
same synthetic data: three hospitals' FHIR records are generated and imported; the federated
risk model (secure aggregation) matches a pooled Newton fit done here on all rows to 1e-6; the
observed/expected figures per surgeon and procedure and the risk-adjusted CUSUM paths and
alarms (Steiner 2000, RA 2, h 4.5) match numpy to 1e-9; the funnel plot's limits are
1 -/+ z/sqrt(E) and flag the surgeon generated with three times the odds; the ranking puts the
riskiest procedure last; alarms are recorded on a real node (surgery.alarm) and read back
through the API and the CLI. Each bad input is refused with its own message and writes
nothing."""

import json
import math
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Node, Tap, run_cli  # noqa: E402

try:
    import numpy as np
except ImportError:
    print("1..0 # SKIP python3-numpy is not installed (scripts/deps.sh --test)")
    sys.exit(0)

FACTORS = ["age", "asa", "emergency", "diabetes"]


def read_csv(path):
    with open(path) as f:
        head = f.readline().strip().split(",")
        rows = [dict(zip(head, line.strip().split(","))) for line in f if line.strip()]
    return rows


def design(rows):
    X = np.array([[1.0] + [float(r[k]) for k in FACTORS] for r in rows])
    y = np.array([float(r["died"]) for r in rows])
    return X, y


def pooled_fit(X, y):
    w = np.zeros(X.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ w))
        g = X.T @ (p - y)
        H = (X * (p * (1 - p))[:, None]).T @ X
        step = np.linalg.solve(H, g)
        w -= step
        if np.max(np.abs(step)) < 1e-12:
            break
    return w


def cusum(p, y, ra, h, reset=True):
    s, path, alarms = 0.0, [], []
    for t, (pt, yt) in enumerate(zip(p, y)):
        w = (math.log(ra) if yt else 0.0) - math.log(1 - pt + ra * pt)
        s = max(0.0, s + w)
        path.append(s)
        if s >= h:
            alarms.append(t + 1)
            if reset:
                s = 0.0
    return np.array(path), alarms


def main():
    t = Tap()
    tmp = tempfile.mkdtemp(prefix="leben-surgery-")
    node = None

    def cli(args):
        return run_cli(["surgery"] + args)

    def cli_json(args):
        r = cli(args + ["--json"])
        try:
            return r, json.loads(r.stdout)
        except ValueError:
            return r, None

    def refused(args, pattern, name, path=None):
        before = os.path.exists(path) if path else None
        r = cli(args)
        t.ok(r.returncode != 0 and re.search(pattern, r.stderr) is not None, name, r.stderr)
        if path:
            t.eq(os.path.exists(path), before, name + ": nothing written")

    try:
        d = os.path.join(tmp, "data")
        r, gen = cli_json(["generate", "--out", d, "--cases", "700", "--seed", "7",
                           "--outlier", "H2-S3", "--outlier-or", "3"])
        t.eq(r.returncode, 0, "generate three hospitals")
        hs = ["H1", "H2", "H3"]
        csv = {}
        for h in hs:
            csv[h] = os.path.join(tmp, h + ".csv")
            r, j = cli_json(["import", os.path.join(d, h + ".ndjson"), "--out", csv[h]])
            t.ok(r.returncode == 0 and j and j["cases"] == 700, "import %s: 700 operations" % h,
                 r.stderr)
        rows = {h: read_csv(csv[h]) for h in hs}
        t.eq(sorted({r["hospital"] for r in rows["H2"]}), ["H2"], "one hospital per table")

        # ---- federated risk model against a pooled fit --------------------------------------
        model = os.path.join(tmp, "model.json")
        r = cli(["fit", "--owners", ",".join(csv[h] for h in hs), "--out", model])
        t.ok(r.returncode == 0 and "secure aggregation" in r.stdout, "fit across hospitals", r.stderr)
        with open(model) as f:
            m = json.load(f)
        co = m["coefficients"]
        w_fed = np.array([co["(intercept)"]] + [co[k] for k in FACTORS])
        Xall, yall = design(rows["H1"] + rows["H2"] + rows["H3"])
        w_pool = pooled_fit(Xall, yall)
        diff = float(np.max(np.abs(w_fed - w_pool)))
        t.ok(diff < 1e-6, "federated coefficients equal the pooled fit (max |diff| %.2e < 1e-6)" % diff)
        with open(os.path.join(d, "truth.json")) as f:
            truth = json.load(f)["coefficients"]
        t.ok(abs(co["emergency"] - truth["emergency"]) < 0.5 and abs(co["asa"] - truth["asa"]) < 0.5,
             "the fit recovers the generator's risk factors")
        t.eq(m["n"], 2100, "the model counts every operation")

        # ---- observed / expected at each hospital --------------------------------------------
        summ = {}
        for h in hs:
            summ[h] = os.path.join(tmp, h + ".summary.json")
            r = cli(["monitor", "--records", csv[h], "--model", model, "--out", summ[h]])
            t.eq(r.returncode, 0, "monitor %s" % h)
        worst = 0.0
        for h in hs:
            with open(summ[h]) as f:
                s = json.load(f)
            X, y = design(rows[h])
            p = 1 / (1 + np.exp(-X @ w_fed))
            worst = max(worst, abs(s["expected"] - p.sum()) / p.sum())
            t.eq((s["n"], s["observed"]), (700, int(y.sum())), "%s totals" % h)
            for by in ("surgeon", "procedure"):
                for g in s["by"][by]:
                    sel = np.array([r[by] == g["name"] for r in rows[h]])
                    E, O = p[sel].sum(), y[sel].sum()
                    worst = max(worst, abs(g["expected"] - E) / E, abs(g["oe"] - O / E) / (O / E))
                    if g["observed"] != int(O) or g["n"] != int(sel.sum()):
                        t.ok(False, "%s %s %s counts" % (h, by, g["name"]))
            t.eq(len(s["by"]["surgeon"]), 4, "%s: four surgeons listed" % h)
            t.ok("case" not in json.dumps(s) and "H1-C0" not in json.dumps(s),
                 "%s: the summary holds no case" % h)
        t.ok(worst < 1e-9, "O/E and expected counts equal numpy's (relative error %.1e)" % worst)

        # ---- CUSUM -------------------------------------------------------------------------
        cus_worst, alarmed = 0.0, {}
        for h, sg in (("H2", "H2-S3"), ("H1", "H1-S1"), ("H3", "H3-S2")):
            r, c = cli_json(["cusum", "--records", csv[h], "--model", model, "--surgeon", sg])
            t.eq(r.returncode, 0, "cusum %s" % sg)
            sel = [r_ for r_ in rows[h] if r_["surgeon"] == sg]
            X, y = design(sel)
            p = 1 / (1 + np.exp(-X @ w_fed))
            path, alarms = cusum(p, y, 2.0, 4.5)
            cus_worst = max(cus_worst, float(np.max(np.abs(np.array(c["path"]) - path))))
            t.eq([a["case"] for a in c["alarms"]], alarms, "%s: the same alarms as numpy" % sg)
            alarmed[sg] = len(alarms)
        t.ok(cus_worst < 1e-9, "CUSUM paths equal numpy's (max |diff| %.1e)" % cus_worst)
        shuffled = os.path.join(tmp, "H2-shuffled.csv")
        with open(csv["H2"]) as src:
            lines = src.read().splitlines()
        body = lines[1:]
        body.reverse()
        with open(shuffled, "w") as dst:
            dst.write("\n".join([lines[0]] + body) + "\n")
        r, c2 = cli_json(["cusum", "--records", shuffled, "--model", model, "--surgeon", "H2-S3"])
        r1, c1 = cli_json(["cusum", "--records", csv["H2"], "--model", model, "--surgeon", "H2-S3"])
        t.ok(len({r_["date"] for r_ in rows["H2"]}) == len(rows["H2"]), "generated operations have distinct times")
        t.ok(r.returncode == 0 and c2["path"] == c1["path"] and c2["alarms"] == c1["alarms"],
             "the chart follows the dates, not the row order")
        t.ok(alarmed["H2-S3"] >= 1, "the surgeon generated with odds ratio 3 alarms")
        r, c = cli_json(["cusum", "--records", csv["H2"], "--model", model, "--surgeon", "H2-S3",
                         "--no-reset", "--ra", "1.5", "--h", "3"])
        X, y = design([r_ for r_ in rows["H2"] if r_["surgeon"] == "H2-S3"])
        path, alarms = cusum(1 / (1 + np.exp(-X @ w_fed)), y, 1.5, 3.0, reset=False)
        t.ok(r.returncode == 0 and float(np.max(np.abs(np.array(c["path"]) - path))) < 1e-9
             and [a["case"] for a in c["alarms"]] == alarms, "--no-reset --ra 1.5 --h 3 as numpy")

        # ---- funnel and ranking --------------------------------------------------------------
        svg = os.path.join(tmp, "funnel.svg")
        allsum = ",".join(summ[h] for h in hs)
        r, f = cli_json(["funnel", "--summaries", allsum, "--out", svg])
        t.ok(r.returncode == 0 and len(f["units"]) == 12, "funnel of 12 surgeons", r.stderr)
        ok = True
        for u in f["units"]:
            e = u["expected"]
            for key, z in (("limits95", 1.959964), ("limits998", 3.090232)):
                lo, hi = max(0.0, 1 - z / math.sqrt(e)), 1 + z / math.sqrt(e)
                ok = ok and abs(u[key][0] - lo) < 1e-6 and abs(u[key][1] - hi) < 1e-6
        t.ok(ok, "control limits are 1 -/+ z/sqrt(E) at 95 % and 99.8 %")
        flagged = [u["name"] for u in f["units"] if u["flag"] != "within"]
        t.ok("H2-S3" in flagged, "H2-S3 lies above the limits", flagged)
        with open(svg) as fh:
            text = fh.read()
        t.ok(text.startswith("<svg") and text.count('class="unit"') == 12
             and 'class="limit998"' in text, "the SVG has 12 units and the limits")
        r, f = cli_json(["funnel", "--summaries", allsum, "--by", "hospital", "--out", svg])
        t.ok(r.returncode == 0 and [u["name"] for u in f["units"]] == hs, "funnel of hospitals")
        r, rk = cli_json(["rank", "--summaries", allsum])
        order = [x["procedure"] for x in rk["ranking"]]
        t.eq(order[-1], "23968004", "the procedure with the highest true risk ranks last")
        oe_ok = True
        for x in rk["ranking"]:
            O = sum(1 for h in hs for r_ in rows[h] if r_["procedure"] == x["procedure"] and r_["died"] == "1")
            oe_ok = oe_ok and x["observed"] == O and abs(x["oe"] - O / x["expected"]) < 1e-12
        t.ok(oe_ok, "the ranking's O/E adds the hospitals' summaries")

        # ---- refusals ----------------------------------------------------------------------
        out = os.path.join(tmp, "out.json")
        refused(["fit", "--owners", csv["H1"], "--out", out], "at least two hospitals",
                "a fit over one hospital is refused", out)
        refused(["fit", "--owners", csv["H1"] + "," + csv["H2"], "--factors", "age,bmi", "--out", out],
                "bmi", "a risk factor no hospital has is refused", out)
        bad_model = os.path.join(tmp, "bad_model.json")
        with open(bad_model, "w") as fh:
            json.dump({"coefficients": {"age": 0.1}}, fh)
        refused(["monitor", "--records", csv["H1"], "--model", bad_model, "--out", out],
                r"no \"\(intercept\)\"", "a model without an intercept is refused", out)
        with open(bad_model, "w") as fh:
            json.dump({"coefficients": {"(intercept)": -3, "bmi": 0.1}}, fh)
        refused(["monitor", "--records", csv["H1"], "--model", bad_model, "--out", out],
                r"no column \"bmi\"", "a model factor missing from the records is refused", out)
        bad_csv = os.path.join(tmp, "bad.csv")
        with open(csv["H1"]) as src, open(bad_csv, "w") as dst:
            lines = src.read().splitlines()
            lines[3] = lines[3][:-1] + "2"
            dst.write("\n".join(lines) + "\n")
        refused(["monitor", "--records", bad_csv, "--model", model, "--out", out],
                r"row 3: outcome \"died\" must be 0 or 1", "an outcome other than 0/1 is refused", out)
        both = os.path.join(tmp, "both.csv")
        with open(both, "w") as dst:
            dst.write(open(csv["H1"]).read() + "".join(open(csv["H2"]).read().splitlines(True)[1:]))
        refused(["monitor", "--records", both, "--model", model, "--out", out],
                "must name one hospital", "a table of two hospitals is refused", out)
        pol = os.path.join(tmp, "policy.json")
        with open(pol, "w") as fh:
            json.dump({"min_cohort": 1000}, fh)
        refused(["monitor", "--records", csv["H1"], "--model", model, "--policy", pol, "--out", out],
                "withheld|min_cohort|fewer", "a summary below the minimum cohort is withheld", out)
        with open(pol, "w") as fh:
            json.dump({"min_cohort": 180}, fh)
        r, s = cli_json(["monitor", "--records", csv["H1"], "--model", model, "--policy", pol])
        t.ok(r.returncode == 0 and all(g["n"] >= 180 for g in s["by"]["surgeon"])
             and s["suppressed"]["surgeon"] + len(s["by"]["surgeon"]) == 4,
             "surgeons under the minimum cohort are left out of the summary")
        refused(["cusum", "--records", csv["H1"], "--model", model, "--surgeon", "H1-S1", "--ra", "1"],
                "not 1", "--ra 1 is refused")
        refused(["cusum", "--records", csv["H1"], "--model", model, "--surgeon", "H1-S1", "--h", "0"],
                "--h 0", "--h 0 is refused")
        refused(["cusum", "--records", csv["H1"], "--model", model, "--surgeon", "H9-S9"],
                "no operations", "an unknown surgeon is refused")
        refused(["cusum", "--records", csv["H1"], "--model", model, "--surgeon", "H1-S1", "--record"],
                "--key is required", "--record without --key is refused")
        other = os.path.join(tmp, "other_model.json")
        m2 = dict(m)
        m2["coefficients"] = dict(co, age=co["age"] + 0.01)
        with open(other, "w") as fh:
            json.dump(m2, fh)
        s_other = os.path.join(tmp, "other.summary.json")
        cli(["monitor", "--records", csv["H3"], "--model", other, "--out", s_other])
        refused(["funnel", "--summaries", summ["H1"] + "," + s_other, "--out", svg + "2"],
                "another risk model", "summaries of different models are refused", svg + "2")
        refused(["funnel", "--summaries", allsum, "--by", "ward", "--out", svg + "2"],
                "use surgeon or hospital", "--by ward is refused", svg + "2")
        refused(["rank", "--summaries", model], "not a summary", "a model is not a summary")
        nd = os.path.join(tmp, "bad.ndjson")
        src = open(os.path.join(d, "H1.ndjson")).read().splitlines()
        with open(nd, "w") as fh:
            fh.write("\n".join(src[:6] + [src[7].replace("H1-C00002", "H1-C09999")]) + "\n")
        refused(["import", nd, "--out", out], "line 7: Observation.partOf must name a Procedure",
                "an Observation of an unknown Procedure is refused", out)
        with open(nd, "w") as fh:
            fh.write("\n".join(src[:2] + [src[2].replace('"valueInteger":2', '"valueInteger":9')
                                          .replace('"valueInteger":3', '"valueInteger":9')
                                          .replace('"valueInteger":1', '"valueInteger":9')
                                          .replace('"valueInteger":4', '"valueInteger":9')]) + "\n")
        refused(["import", nd, "--out", out], "asa needs valueInteger from 1 to 6",
                "an ASA class of 9 is refused", out)
        r = cli(["frobnicate"])
        t.ok(r.returncode == 2 and "not a surgery subcommand" in r.stderr, "an unknown subcommand")
        r = cli(["cusum", "--help"])
        t.ok(r.returncode == 0 and "Steiner" in r.stdout, "--help explains the commands")

        # ---- alarms on the chain -----------------------------------------------------------
        node = Node(demo=True)
        node.start()
        r, c = node.cli_json(["surgery", "cusum", "--records", csv["H2"], "--model", model,
                              "--surgeon", "H2-S3", "--record", "--key", "clinic"])
        t.ok(r.returncode == 0 and c and all(len(a.get("tx", "")) == 64 for a in c["alarms"]),
             "every alarm is recorded in a tx", r.stderr)
        st, j = node.get("/v1/surgery/alarms/H2/H2-S3")
        t.ok(st == 200 and [a["case"] for a in j["alarms"]] == [a["case"] for a in c["alarms"]]
             and all(a["model"] == m["model"] and a["h"] == 4.5 and a["ra"] == 2 for a in j["alarms"]),
             "GET /v1/surgery/alarms lists them with the model and threshold", j)
        tx = node.wait_tx(c["alarms"][0]["tx"])
        t.ok(tx and tx.get("type") == "surgery.alarm", "the tx is a surgery.alarm", tx)
        st, j = node.get("/v1/surgery/alarms/H1/H1-S1")
        t.ok(st == 200 and j["alarms"] == [], "a surgeon without alarms has none")
        r = node.cli(["surgery", "alarms", "--hospital", "H2", "--surgeon", "H2-S3"])
        t.ok(r.returncode == 0 and ("%d alarm" % len(c["alarms"])) in r.stdout, "leben surgery alarms",
             r.stdout + r.stderr)
        r = node.cli(["surgery", "alarms", "--hospital", "H2", "--surgeon", "H2/S3"])
        t.ok(r.returncode != 0 and "without '/'" in r.stderr, "a surgeon id with a '/' is refused")
        r = node.cli(["surgery", "cusum", "--records", csv["H2"], "--model", model, "--surgeon",
                      "H2-S3", "--record", "--key", "nobody"])
        st, j2 = node.get("/v1/surgery/alarms/H2/H2-S3")
        t.ok(r.returncode != 0 and len(j2["alarms"]) == len(c["alarms"]),
             "an unknown key records nothing", r.stderr)
        # attacks: alarm txs that are not alarms or not canonical, sent raw, are refused and
        # change nothing
        good = {"case": 5, "cases": 9, "h": 4.5, "hospital": "H2", "model": m["model"],
                "procedure": "", "ra": 2, "surgeon": "H2-S3", "value": 5.0}

        def canon(d):
            return json.dumps(d, sort_keys=True, separators=(",", ":"))

        bad = [
            (canon(dict(good, value=4.4)), "must be a number >= h", "a value below h"),
            (canon(dict(good, ra=1)), "\"ra\" must be a number > 0 and not 1", "RA 1"),
            (canon(dict(good, case=10)), "1 <= case <= cases", "a case beyond the chart"),
            (canon(dict(good, surgeon="H2/S3")), "control character or '/'", "a '/' in a surgeon id"),
            (canon(dict(good, hospital="")), "\"hospital\" must be a text", "an empty hospital"),
            (canon(dict(good, model="00")), "64 hex digits", "a model that is not a hash"),
            (canon(dict(good, extra=1)), "unknown field \"extra\"", "an unknown field"),
            (json.dumps(good), "not canonical", "non-canonical JSON"),
            ("not json", "not JSON", "a payload that is not JSON"),
        ]
        for payload, want, name in bad:
            r = node.cli(["tx", "raw", "--from", "clinic", "--chain", "business", "--type-id",
                          str(0x03b8), "--payload", payload.encode().hex(), "--wait"])
            t.ok(r.returncode != 0 and want in (r.stdout + r.stderr), "surgery.alarm with %s is refused" % name,
                 (r.stdout + r.stderr)[-400:])
        r = node.cli(["tx", "raw", "--from", "alice", "--chain", "business", "--type-id",
                      str(0x03b8), "--payload", canon(good).encode().hex(), "--wait"])
        t.ok(r.returncode != 0 and "records its alarms with another key" in (r.stdout + r.stderr),
             "another account may not record alarms for H2", (r.stdout + r.stderr)[-400:])
        st, j3 = node.get("/v1/surgery/alarms/H2/H2-S3")
        t.eq(len(j3["alarms"]), len(c["alarms"]), "the refused alarms changed nothing")
        r = node.cli(["tx", "raw", "--from", "clinic", "--chain", "business", "--type-id",
                      str(0x03b8), "--payload", canon(good).encode().hex(), "--wait"])
        st, j3 = node.get("/v1/surgery/alarms/H2/H2-S3")
        t.ok(r.returncode == 0 and len(j3["alarms"]) == len(c["alarms"]) + 1,
             "a well-formed raw alarm is recorded", r.stderr)
        # the JSON API over released summaries
        sums = [json.load(open(summ[h])) for h in hs]
        st, fj, _ = node.http("POST", "/v1/surgery/funnel", {"summaries": sums})
        r, f_cli = cli_json(["funnel", "--summaries", allsum, "--out", svg])
        t.ok(st == 200 and fj["units"] == f_cli["units"] and fj["svg"].startswith("<svg")
             and fj["svg"].count('class="unit"') == 12, "POST /v1/surgery/funnel equals the CLI", st)
        st, fj, _ = node.http("POST", "/v1/surgery/funnel", {"summaries": sums, "by": "hospital"})
        t.ok(st == 200 and [u["name"] for u in fj["units"]] == hs, "POST /v1/surgery/funnel by hospital")
        st, rj, _ = node.http("POST", "/v1/surgery/rank", {"summaries": sums})
        t.ok(st == 200 and [x["procedure"] for x in rj["ranking"]] == order,
             "POST /v1/surgery/rank equals the CLI's ranking", st)
        other_sum = json.load(open(s_other))
        for body, name in (({"summaries": sums, "by": "ward"}, "by ward"),
                           ({"summaries": [sums[0], other_sum]}, "summaries of two models"),
                           ({"summaries": [m]}, "a model as a summary"),
                           ({"summaries": []}, "no summaries"),
                           ("not json", "a body that is not JSON")):
            st, ej, _ = node.http("POST", "/v1/surgery/funnel", body)
            t.ok(st in (400, 422), "POST /v1/surgery/funnel with %s is refused" % name, (st, ej))
        st, ej, _ = node.http("POST", "/v1/surgery/rank", {"summaries": [sums[0], other_sum]})
        t.ok(st in (400, 422) and "another risk model" in json.dumps(ej), "POST /v1/surgery/rank refuses mixed models")
        st, j = node.get("/v1/surgery/alarms/H2/" + "S" * 70)
        t.eq(st, 400, "an over-long surgeon id in the path is 400")
        node.stop()
        r = run_cli(["verify", "--home", node.home])
        t.eq(r.returncode, 0, "leben verify replays the chains with the alarms")
    finally:
        if node:
            node.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
