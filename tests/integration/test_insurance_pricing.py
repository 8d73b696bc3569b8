#!/usr/bin/env python3
"""Premium pricing through an exchange request, with a real node and the CLI.

The clinic (data owner) offers its claims-history table; its patients' consent keys are
registered and 50 of 60 consent (10 never do). The insurer (alice) asks to run builtin:logreg
on it, the clinic approves, alice pays the escrow, the clinic's node runs it over the
consented patients only and seals the result to alice. alice prices the premium from the
released model (`leben insurance price --request`) and registers the policy with it
(`leben insurance policy --request`): the chain records the request (priced_by) after checking
it is alice's own delivered logreg request.

Checked: the released result is a model (coefficients and fit figures, n = 50: the 10
non-consenting patients left out), holds no row, no patient id, no column of values; the
premium equals P(claim) x expected x (1 + loading) from those coefficients (computed here);
attacks on the chain rule first: another insurer citing alice's request, a request with no
delivered result and a request that ran another algorithm are refused with their reasons and
register nothing."""

import json
import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import run_cli, run_node, uvarint  # noqa: E402

N, REFUSERS = 60, 10
X = [13, 1]
EXPECTED, LOADING = 200, 15


def table(path):
    rnd = random.Random(7)
    rows = []
    with open(path, "w") as f:
        f.write("patient_id,age_over_50,diabetes,claim\n")
        for i in range(N):
            a, d = rnd.randint(0, 40), 1 if rnd.random() < 0.3 else 0
            p = 1 / (1 + math.exp(-(-2.0 + 0.03 * a + 0.5 * d)))
            y = 1 if rnd.random() < p else 0
            rows.append(("p%d" % i, a, d, y))
            f.write("p%d,%d,%d,%d\n" % (i, a, d, y))
    return rows


def policy_payload(name, policy_model):
    """An ins.policy payload, version 2 (priced from a model)."""
    def s(x):
        b = x.encode()
        return uvarint(len(b)) + b
    return (b"\x02" + s(name) + uvarint(1) + s("I21.4") + s("0270346") + uvarint(300000000) +
            uvarint(500000000) + uvarint(100000) + uvarint(0) + uvarint(2000) +
            uvarint(1000000) + bytes.fromhex(policy_model)).hex()


def main():
    run_node(run, demo=True)


def run(t, node):
    def cli(*args):
        r = node.cli(list(args))
        if r.returncode != 0:
            raise RuntimeError("leben %s: %s" % (" ".join(args[:2]), r.stderr))
        return r

    def cli_json(*args):
        r, j = node.cli_json(list(args))
        if r.returncode != 0 or j is None:
            raise RuntimeError("leben %s: %s" % (" ".join(args[:2]), r.stderr))
        return j

    data = os.path.join(node.home, "claims.csv")
    rows = table(data)
    for k in ("patients", "refusers"):
        r = run_cli(["keys", "new", k, "--home", node.home])
        t.eq(r.returncode, 0, "key %s " % k + r.stderr)
    reg = cli_json("data", "add", data, "--key", "clinic", "--price", "1", "--name",
                   "claims history")["tx"]
    cli("tx", "identity", "--from", "clinic", "--role", "provider", "--name", "St. Anna",
        "--wait")
    cli("tx", "transfer", "--from", "clinic", "--to", "node", "--amount", "10", "--asset", "csc",
        "--wait")
    asset = cli_json("exchange", "offer", "--from", "clinic", "--asset-tx", reg, "--price", "1",
                     "--min-cohort", "10", "--data", data)["asset"]
    cli("exchange", "grant", "--from", "clinic", "--asset", asset, "--executor", "node",
        "--kind", "own")
    keys = os.path.join(node.home, "keys.csv")
    with open(keys, "w") as f:
        f.write("local_id,address\n")
        for i in range(N):
            f.write("p%d,%s\n" % (i, node.address("refusers" if i < REFUSERS else "patients")))
    cli("exchange", "patients", "--from", "clinic", "--asset", asset, "--data", data, "--keys",
        keys, "--out", os.path.join(node.home, "cards"))
    for i in range(REFUSERS, N):
        cli("exchange", "consent", "--from", "patients", "--asset", asset, "--patient", "p%d" % i)

    def request(algo, params):
        return cli_json("exchange", "request", "--from", "alice", "--asset", asset,
                        "--algorithm", algo, "--params", json.dumps(params), "--purpose",
                        "premium pricing")["tx"]

    def deliver(req):
        cli("exchange", "approve", "--from", "clinic", "--request", req, "--reason", "model only")
        esc = cli_json("exchange", "escrow", "--from", "alice", "--request", req, "--executor",
                       "node", "--compute-fee", "2")["escrow"]
        cli("exchange", "run", "--from", "node", "--request", req, "--escrow", esc, "--data",
            data)

    req = request("builtin:logreg", {"y": "claim", "x": ["age_over_50", "diabetes"]})
    pending = request("builtin:logreg", {"y": "claim", "x": ["diabetes"]})
    deliver(req)
    stats = request("builtin:stats", {"columns": ["age_over_50"]})
    deliver(stats)

    # ---- what the insurer receives: a model, never rows ----
    out = os.path.join(node.home, "model.json")
    cli("exchange", "result", "--from", "alice", "--request", req, "--out", out)
    m = json.load(open(out))
    t.eq(m.get("n"), N - REFUSERS, "the model was fitted over the consenting patients only")
    t.ok(set(m) <= {"algorithm", "coef", "coefficients", "n", "accuracy", "log_loss",
                    "converged", "iterations", "C", "y"},
         "the released result holds the model's fields only", sorted(m))
    text = json.dumps(m)
    t.ok(not any('"%s"' % r[0] in text for r in rows), "no patient id in what the insurer got")
    lists = [v for v in m.values() if isinstance(v, list)]
    t.ok(all(len(v) == 3 for v in lists), "no column of values: the only list is the 3 "
         "coefficients", lists)
    r = node.cli(["exchange", "result", "--from", "bob", "--request", req])
    t.ok(r.returncode != 0, "another key cannot open the insurer's result", r.stdout[:200])

    # ---- the premium from it ----
    b = m["coef"]
    z = b[0] + b[1] * X[0] + b[2] * X[1]
    p = 1 / (1 + math.exp(-z))
    want = p * EXPECTED * (1 + LOADING / 100)
    j = cli_json("insurance", "price", "--request", req, "--from", "alice", "--x",
                 ",".join(map(str, X)), "--expected", str(EXPECTED), "--loading", str(LOADING))
    t.ok(abs(j["premium_asc"] - want) < 1e-6 and j.get("model_n") == N - REFUSERS,
         "insurance price --request: P(claim) x expected x (1 + loading) from the released "
         "coefficients (%.6f)" % want, j)
    r = node.cli(["insurance", "price", "--request", req, "--from", "bob", "--x", "13,1",
                  "--expected", "200"])
    t.ok(r.returncode != 0 and "sealed to the user who made the request" in r.stderr,
         "another insurer cannot price from alice's request", r.stderr)

    # ---- attacks on the chain's rule first ----
    def raw_policy(sender, model):
        hx = node.sign("raw", ["--from", sender, "--chain", "business", "--type-id", "0x03c0",
                               "--payload", policy_payload("Forged cover", model)])[0]
        st, res = node.post_txs({"tx": hx})
        e = res.get("error", {}) if isinstance(res, dict) else {}
        return e.get("code"), e.get("message", "")

    code, msg = raw_policy("bob", req)
    t.ok(code == "LB_EUNAUTH" and "not by the insurer" in msg,
         "a policy citing another insurer's request is refused", (code, msg))
    code, msg = raw_policy("alice", pending)
    t.ok(code == "LB_EINVALID" and "no delivered result" in msg,
         "a policy citing a request with no delivered result is refused", (code, msg))
    code, msg = raw_policy("alice", stats)
    t.ok(code == "LB_EINVALID" and "did not run builtin:logreg" in msg,
         "a policy citing a request of another algorithm is refused", (code, msg))
    code, msg = raw_policy("alice", "ab" * 32)
    t.ok(code == "LB_ENOTFOUND" and "not on the business chain" in msg,
         "a policy citing no request is refused", (code, msg))

    # ---- the policy priced from the model ----
    r, pj = node.cli_json(["insurance", "policy", "--from", "alice", "--name", "Cardiac cover",
                           "--covers", "I21.4:0270346", "--limit-claim", "300",
                           "--limit-period", "500", "--period-blocks", "100000",
                           "--copay", "20", "--request", req, "--x", "13,1", "--expected",
                           str(EXPECTED), "--loading", str(LOADING)])
    t.eq(r.returncode, 0, "policy --request registered " + r.stderr)
    pol = (pj or {}).get("policy", "")
    node.wait_tx(pol)
    st, v = node.get("/v1/insurance/policies/" + pol)
    t.ok(st == 200 and v.get("priced_by") == req and
         v.get("premium") == int(want * 1e6 + 0.5),
         "the chain's policy: premium from the model, priced_by the exchange request", v)
    r = node.cli(["insurance", "enrol", pol, "--from", "bob"])
    t.eq(r.returncode, 0, "a patient enrols paying that premium " + r.stderr)
    r = run_cli(["verify", "--home", node.home])
    t.ok(r.returncode == 0, "leben verify replays version-2 policies", r.stderr[-300:])


if __name__ == "__main__":
    main()
