#!/usr/bin/python3
"""A study across the nodes of a local consortium of three institutions (scripts/cluster.sh
up 3): breast_cancer.csv (Debian python3-sklearn) split across three owners, each table
registered, offered and kept on its owner's node; alice asks each owner for builtin:logreg
builtin:stats and builtin:km and each owner approves; `leben study run --owners URL1,URL2,URL3` then
runs the rounds through POST /v1/study/step on the three nodes.

Checks: the coefficients and training accuracy equal scikit-learn's on the pooled,
standardised data (within 1e-3, as the one-machine study); means and standard deviations
equal numpy's; the Kaplan–Meier curve equals the product-limit formula written out here; one owner's partial as the coordinator received it differs from that owner's
plain partial (computed here from its rows) while the three received vectors add up to the
pooled plain partial (masks cancel); the study's start and end are record txs on the business
chain; bob, whose requests were not approved, is refused by every owner node with the reason
and nothing is combined; a step signed by a key that did not make the request is refused; a
table on the node that is not the registered data is refused."""

import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import BIN, ROOT, Tap, install_tls  # noqa: E402

PASS = "cluster"
TOL = 1e-3
FB = 24


def env():
    e = dict(os.environ)
    e["LEBEN_PASSPHRASE"] = PASS
    e["LEBEN_BIN"] = BIN
    e.pop("LEBEN_NODE", None)
    e.pop("LEBEN_HOME", None)
    return e


def read_env(cluster):
    out = {}
    with open(os.path.join(cluster, "cluster.env")) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                out[k] = v
    return out


def http(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def km_reference(T, E, min_at_risk=0):
    """Product-limit estimate with Greenwood's standard error, written out; with a minimum
    cohort k, times merge into steps of 0 or >= k events and censorings, after which 0 or >= k
    remain at risk (docs/exchange.md, Kaplan–Meier)."""
    out = []
    s, gw, r, k = 1.0, 0.0, len(T), min_at_risk
    step = None
    for t in sorted(set(T)):
        d = int(((T == t) & (E == 1)).sum())
        c = int(((T == t) & (E == 0)).sum())
        if d == 0 and c == 0:
            continue
        if step is None:
            if k and r < k:
                break
            step = [r, 0, 0]
        if d:
            s *= 1 - d / r
            gw = gw + d / (r * (r - d)) if r > d else float("inf")
        step[1] += d
        step[2] += c
        r -= d + c
        if not k or ((step[1] == 0 or step[1] >= k) and (step[2] == 0 or step[2] >= k) and (r <= 0 or r >= k)):
            out.append((t, step[0], step[1], step[2], s, s * math.sqrt(gw) if gw != float("inf") else None))
            step = None
    return out


def km_equal(res, ref):
    if len(res.get("time", [])) != len(ref):
        return False
    for i, (t, r, d, c, s, se) in enumerate(ref):
        if res["time"][i] != t or res["at_risk"][i] != r or res["events"][i] != d or \
                res["censored"][i] != c:
            return False
        if abs(res["survival"][i] - s) > 1e-12:
            return False
        if (se is None) != (res["se"][i] is None) or \
                (se is not None and abs(res["se"][i] - se) > 1e-12):
            return False
    return True


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix="leben-study-nodes-")
    cluster = os.path.join(work, "cluster")
    e = env()
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
    ce = read_env(cluster)
    install_tls(os.path.join(cluster, "node-1", "tls"))  # the nodes' APIs take members only
    urls = [ce["NODE_API_%d" % i] for i in (1, 2, 3)]

    def at(i, args, check=True):
        r = subprocess.run([BIN] + args + ["--home", os.path.join(cluster, "node-%d" % i),
                                           "--node", urls[i - 1]],
                           env=e, capture_output=True, text=True, timeout=600)
        if check and r.returncode != 0:
            raise RuntimeError("%s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def atj(i, args):
        return json.loads(at(i, args + ["--json"]).stdout)

    def addr(i, name):
        r = subprocess.run([BIN, "keys", "show", name, "--home",
                            os.path.join(cluster, "node-%d" % i), "--json"], env=e,
                           capture_output=True, text=True)
        return json.loads(r.stdout)["address"]

    # the data, split by row index as the one-machine study splits it
    data = load_breast_cancer()
    names = [s.replace(" ", "_") for s in data.feature_names]
    X, y = data.data, data.target
    idx = np.arange(len(y))
    # survival data as the one-machine study derives it: time = mean_radius rounded to 0.5,
    # event = target
    T = np.round(X[:, names.index("mean_radius")] * 2) / 2
    E = y.astype(int)
    parts = [idx[idx % 3 == k] for k in range(3)]
    files = []
    for k in range(3):
        p = os.path.join(work, "owner%d.csv" % (k + 1))
        with open(p, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(names + ["target", "time", "event"])
            for i in parts[k]:
                w.writerow([repr(float(v)) for v in X[i]] + [int(y[i]), repr(float(T[i])),
                                                             int(E[i])])
        files.append(p)

    # owners: the clinic at institution-1 (its node holds an execution right), the node keys
    # of institutions 2 and 3 (they own their assets directly)
    n = [addr(i, "node") for i in (1, 2, 3)]
    for i in (2, 3):
        for asset in ("csc", "asc"):
            at(1, ["tx", "transfer", "--from", "clinic", "--to", n[i - 1], "--amount", "20",
                   "--asset", asset, "--wait"])
    owner = ["clinic", "node", "node"]
    assets = []
    for k in range(3):
        i = k + 1
        reg = atj(i, ["data", "add", files[k], "--key", owner[k], "--price", "0", "--name",
                      "breast cancer part %d" % i, "--allow-near"])["tx"]
        # a business block after the registration, which the offer cites it through
        at(i, ["tx", "identity", "--from", owner[k], "--role", "provider", "--name",
               "institution-%d" % i, "--wait"])
        a = atj(i, ["exchange", "offer", "--from", owner[k], "--asset-tx", reg, "--price", "0",
                    "--data", files[k]])["asset"]
        assets.append(a)
        d = os.path.join(cluster, "node-%d" % i, "exchange", "assets")
        os.makedirs(d, exist_ok=True)
        shutil.copy(files[k], os.path.join(d, a + ".csv"))
    at(1, ["exchange", "grant", "--from", "clinic", "--asset", assets[0], "--executor", n[0],
           "--kind", "node"])
    for b in ("logreg", "stats", "km"):
        at(1, ["exchange", "algo", "--from", "clinic", "--builtin", b, "--fee", "0", "--name", b])

    params = {"y": "target", "x": names, "standardize": True, "C": 1.0}
    sparams = {"columns": names[:4]}

    def requests(user, algo, p, approve):
        out = []
        for k in range(3):
            rq = atj(1, ["exchange", "request", "--from", user, "--asset", assets[k],
                         "--algorithm", "builtin:" + algo, "--params", json.dumps(p),
                         "--purpose", "study across nodes"])["tx"]
            if approve:
                at(k + 1, ["exchange", "approve", "--from", owner[k], "--request", rq])
            out.append(rq)
        return out

    alice_lr = requests("alice", "logreg", params, True)
    alice_st = requests("alice", "stats", sparams, True)
    grid = sorted(set(float(v) for v in T))
    kparams = {"time": "time", "event": "event", "grid": grid}
    alice_km = requests("alice", "km", kparams, True)
    bob_lr = requests("bob", "logreg", params, False)
    t.ok(True, "three assets offered, alice's requests approved by each owner, bob's not")

    def study(user, reqs, algo, p, trace=None):
        args = ["study", "run", "--owners", ",".join(urls), "--requests", ",".join(reqs),
                "--key", user, "--algorithm", algo, "--params", json.dumps(p), "--json"]
        if trace:
            args += ["--trace", trace]
        return at(1, args, check=False)

    # ---- logistic regression across the nodes vs scikit-learn on the pooled data ----
    Xs = StandardScaler().fit_transform(X)
    ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=100000).fit(Xs, y)
    ref_coef = np.concatenate([ref.intercept_, ref.coef_[0]])
    ref_acc = ref.score(Xs, y)
    trace = os.path.join(work, "trace.jsonl")
    r = study("alice", alice_lr, "logreg", params, trace)
    j = json.loads(r.stdout) if r.returncode == 0 else None
    ok = j is not None
    diff = float(np.max(np.abs(np.array(j["result"]["coef"]) - ref_coef))) if ok else None
    t.ok(ok and diff < TOL, "logistic regression across three nodes matches scikit-learn within "
         "%g" % TOL, "rc=%s diff=%s %s" % (r.returncode, diff, r.stderr[-2000:]))
    t.ok(ok and j["result"]["accuracy"] == ref_acc and j["result"]["n"] == 569,
         "training accuracy across the nodes equals scikit-learn's (%.6f)" % ref_acc,
         ok and j["result"])

    # ---- what the coordinator saw: masked partials ----
    lines = [json.loads(x) for x in open(trace)] if os.path.exists(trace) else []
    first = lines[0] if lines else {}
    t.ok(len(lines) == (j["sandbox"]["rounds"] if ok else -1) and
         first.get("step", {}).get("phase") == "moments1",
         "the trace holds every round; the first sums the moments for standardising",
         [x.get("step", {}).get("phase") for x in lines])
    node_keys = [http(u + "/v1/status")[1]["node_key"] for u in urls]

    def decode(hexs):
        raw = bytes.fromhex(hexs)
        v = np.array([int.from_bytes(raw[i:i + 8], "little") for i in range(0, len(raw), 8)],
                     dtype=object)
        return v

    def plain_moments1(rows):
        out = []
        for c in range(X.shape[1]):
            out += [len(rows), float(np.sum(X[rows, c]))]
        return out + [len(rows)]

    got = {o["node_key"]: decode(o["masked"]) for o in first.get("owners", [])}
    p1 = plain_moments1(parts[0])
    m1 = got.get(node_keys[0])
    as_float = [((int(v) + 2 ** 63) % 2 ** 64 - 2 ** 63) / 2 ** FB for v in m1] if m1 is not None else []
    t.ok(len(as_float) == len(p1) and
         sum(abs(a - b) > 1 for a, b in zip(as_float, p1)) == len(p1),
         "owner 1's partial as the coordinator received it differs from its plain partial in "
         "every value (masked)", as_float[:4])
    if len(got) == 3:
        tot = [(sum(int(got[k][i]) for k in got) + 2 ** 63) % 2 ** 64 - 2 ** 63
               for i in range(len(p1))]
        pooled = plain_moments1(idx)
        t.ok(all(abs(a / 2 ** FB - b) < 1e-3 for a, b in zip(tot, pooled)),
             "the three received vectors add up to the pooled plain partial (the masks cancel)")
    else:
        t.ok(False, "three owners answered the first round", got.keys())

    # ---- the study on the business chain ----
    for key, kind in (("start_tx", "study.start"), ("done_tx", "study.done")):
        txid = j["sandbox"].get(key, "") if ok else ""
        st, tx = http(urls[1] + "/v1/txs/" + txid)
        t.ok(st == 200 and kind in json.dumps(tx),
             "%s is a record tx on the business chain (read from institution-2)" % kind,
             (st, tx))

    # ---- stats across the nodes vs numpy ----
    r = study("alice", alice_st, "stats", sparams)
    j = json.loads(r.stdout) if r.returncode == 0 else None
    good = j is not None and j["result"]["n"] == 569
    for c, col in enumerate(j["result"]["columns"] if j else []):
        good &= abs(col["mean"] - float(np.mean(X[:, c]))) < 1e-6
        good &= abs(col["sd"] - float(np.std(X[:, c], ddof=1))) < 1e-6
    t.ok(good and len(j["result"]["columns"]) == 4,
         "means and standard deviations across the nodes equal numpy's", r.stderr[-2000:])

    # ---- Kaplan–Meier across the nodes vs the product-limit formula ----
    ref = km_reference(T, E, 10)
    r = study("alice", alice_km, "km", kparams)
    j = json.loads(r.stdout) if r.returncode == 0 else None
    t.ok(j is not None and km_equal(j["result"], ref),
         "Kaplan–Meier across the nodes equals the pooled product-limit curve with Greenwood's "
         "se (stopping below 10 at risk)", r.stderr[-2000:])

    # ---- refusals ----
    r = study("bob", bob_lr, "logreg", params)
    t.ok(r.returncode == 1 and r.stderr.count("not approved by the asset's owner") == 3 and
         r.stderr.count("nothing computed") == 3 and "3 of 3 owners refused" in r.stderr,
         "bob (requests not approved) is refused by every owner node, nothing combined",
         r.stderr[-2000:])
    r = study("bob", alice_lr, "logreg", params)
    t.ok(r.returncode == 1 and r.stderr.count("made by another user") == 3,
         "bob using alice's approved requests is refused by every owner node", r.stderr[-2000:])
    r = study("alice", [alice_lr[0], alice_lr[0], alice_lr[2]], "logreg", params)
    t.ok(r.returncode == 1 and r.stderr.count("is not a party of this study") == 2 and
         "3 of 3 owners refused" in r.stderr,
         "a study listing a node without a right on the request given for it is refused by "
         "every owner node (a peer's masks could otherwise be removed)", r.stderr[-2000:])
    st, body = http(urls[1] + "/v1/study/step", "POST", {"msg": "{}", "pk": "00" * 32,
                                                          "sig": "00" * 64})
    t.ok(st >= 400 and "signature" in json.dumps(body),
         "a step whose signature does not verify is refused", (st, body))
    # a table on the node that is not the registered data
    p = os.path.join(cluster, "node-2", "exchange", "assets", assets[1] + ".csv")
    with open(p, "a") as f:
        f.write(",".join(["1"] * 30) + ",1\n")
    r = study("alice", alice_lr, "logreg", params)
    t.ok(r.returncode == 1 and "not the registered data" in r.stderr,
         "a table on the node that is not the registered data is refused", r.stderr[-2000:])


if __name__ == "__main__":
    main()
