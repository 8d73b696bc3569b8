#!/usr/bin/python3
"""A study across the nodes of a local consortium of three institutions (scripts/cluster.sh
up 3): breast_cancer.csv (Debian python3-sklearn) split across three owners, each table (with a
patient_id column) registered, offered (minimum cohort 10) and kept on its owner's node; alice
asks each owner for builtin:logreg, builtin:stats and builtin:km with fixed parameters and each
owner approves; `leben study run --owners URL1,URL2,URL3` opens one escrow per request and runs
the rounds through POST /v1/study/step on the three nodes.

Checks, honest studies: the coefficients and training accuracy equal scikit-learn's on the
pooled, standardised data (within 1e-3); means and standard deviations equal numpy's over the
rows whose patients did not revoke consent (a patient who revoked is not in the study's n, nor
in the execution record); the Kaplan–Meier curve on a grid whose cells hold 0 or at least 10
records at every owner equals the product-limit formula; one owner's partial as the coordinator
received it differs from its plain partial while the three add up to the pooled plain partial;
every owner records the run (xchg.exec citing alice's escrow) and its result (xchg.result), and
the escrow is released: the study is in the asset's and the request's log with its payment.

Attacks (kept as regression cases): the same approval used for a second study (refused: used
once), the approval of some columns used for other columns, a study whose parameters differ
from the approved ones, a Kaplan–Meier grid whose cells hold 1 to 9 records at an owner (the
owner's release policy keeps its partial back), unapproved requests, another user's requests, a
node listed without a right on the request given for it, a bad signature, a table that is not
the registered data.

Drop-out: an owner stopped (SIGSTOP) with a second one after round 1 fails the study with a
clear error (1 of 3 left, 2 needed); an owner stopped (TERM) after round 1 of another study is
left out and the study completes over the two others, equal to the pooled statistics over their
rows."""

import csv
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import BIN, ROOT, Tap, install_tls, offer_tables_on_cluster, read_cluster_env  # noqa: E402

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


def km_grid(owners, T, E, mc):
    """Ascending grid times such that at every owner the events and the censorings that fall
    to each grid time (the first grid time >= the observation) are 0 or at least mc."""
    times = sorted(set(float(v) for v in T))
    grid, lo = [], -1e300

    def ok(hi):
        for rows in owners:
            sel = [i for i in rows if lo < T[i] <= hi]
            d = sum(1 for i in sel if E[i] == 1)
            c = len(sel) - d
            if (0 < d < mc) or (0 < c < mc):
                return False
        return True
    for tm in times:
        if ok(tm):
            grid.append(tm)
            lo = tm
    if grid and grid[-1] != times[-1]:
        grid[-1] = times[-1]  # the last bucket takes the rest
    return grid


def run(t, e, cluster, work):
    ce = read_cluster_env(cluster)
    install_tls(os.path.join(cluster, "node-1", "tls"))  # the nodes' APIs take members only
    urls = [ce["NODE_API_%d" % i] for i in (1, 2, 3)]

    def at(i, args, check=True, env_extra=None):
        ee = dict(e)
        ee.update(env_extra or {})
        r = subprocess.run([BIN] + args + ["--home", os.path.join(cluster, "node-%d" % i),
                                           "--node", urls[i - 1]],
                           env=ee, capture_output=True, text=True, timeout=600)
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

    # the data, split by row index as the one-machine study splits it; patient P<row>
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
            w.writerow(["patient_id"] + names + ["target", "time", "event"])
            for i in parts[k]:
                w.writerow(["P%d" % i] + [repr(float(v)) for v in X[i]] +
                           [int(y[i]), repr(float(T[i])), int(E[i])])
        files.append(p)

    n, owner, assets = offer_tables_on_cluster(
        at, atj, addr, cluster, files, "breast cancer part %d", 10,
        "secondary use for research under the consortium's ethics approval")
    # built-in algorithms belong to the platform: requested without registration

    params = {"y": "target", "x": names, "standardize": True, "C": 1.0}
    sparams = {"columns": names[:4]}
    grid = km_grid(parts, T, E, 10)
    kparams = {"time": "time", "event": "event", "grid": grid}
    fine = {"time": "time", "event": "event", "grid": sorted(set(float(v) for v in T))}

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
    alice_lr2 = requests("alice", "logreg", params, True)
    alice_st = requests("alice", "stats", sparams, True)
    alice_st2 = requests("alice", "stats", sparams, True)
    alice_st3 = requests("alice", "stats", sparams, True)
    alice_km = requests("alice", "km", kparams, True)
    alice_fine = requests("alice", "km", fine, True)
    bob_lr = requests("bob", "logreg", params, False)
    t.ok(True, "three assets offered, alice's requests approved by each owner, bob's not")
    nobody = ",".join(["%064x" % (k + 1) for k in range(3)])  # escrows that do not exist

    def study(user, reqs, algo, p, trace=None, escrows=None, env_extra=None, popen=False):
        args = ["study", "run", "--owners", ",".join(urls), "--requests", ",".join(reqs),
                "--key", user, "--algorithm", algo, "--params", json.dumps(p), "--json"]
        if trace:
            args += ["--trace", trace]
        if escrows:
            args += ["--escrows", escrows]
        else:
            args += ["--compute-fee", "0.01"]  # the data and the algorithm are free
        if popen:
            ee = dict(e)
            ee.update(env_extra or {})
            return subprocess.Popen([BIN] + args + ["--home", os.path.join(cluster, "node-1"),
                                                    "--node", urls[0]], env=ee,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return at(1, args, check=False, env_extra=env_extra)

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
    runs = j["sandbox"].get("runs_at_owners", []) if ok else []
    t.ok(len(runs) == 3 and all(x.get("status") == "done" and x.get("release_tx") and
                                x.get("exec_tx") and x.get("result_tx") for x in runs),
         "each owner recorded its run and its result and released its escrow", runs)

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

    # ---- the study on the business chain and in the logs ----
    for key, kind in (("start_tx", "study.start"), ("done_tx", "study.done")):
        txid = j["sandbox"].get(key, "") if ok else ""
        st, tx = http(urls[1] + "/v1/txs/" + txid)
        t.ok(st == 200 and kind in json.dumps(tx),
             "%s is a record tx on the business chain (read from institution-2)" % kind,
             (st, tx))
    st, lg = http(urls[2] + "/v1/exchange/log/" + assets[1])
    ev = [x for x in (lg or {}).get("events", []) if x.get("type") in ("xchg.exec", "xchg.result")]
    execs = [x for x in ev if x["type"] == "xchg.exec" and
             x.get("details", {}).get("request") == alice_lr[1]]
    t.ok(len(execs) == 1 and execs[0].get("payment", {}).get("escrow") == "released" and
         any(x["type"] == "xchg.result" and x.get("details", {}).get("request") == alice_lr[1]
             for x in ev),
         "the study is in asset 2's log: its run (escrow released) and its result", ev)
    st, lg = http(urls[0] + "/v1/exchange/log/" + alice_lr[2])
    types = [x.get("type") for x in (lg or {}).get("events", [])]
    t.ok("xchg.exec" in types and "xchg.result" in types,
         "the study is in the log of owner 3's request", types)
    r = at(1, ["exchange", "log", "--patient", "P3", "--asset", assets[0], "--json"], check=False)
    t.ok(r.returncode == 0 and "xchg.exec" in r.stdout,
         "the study's run is in the log of patient P3 (owner 1)", r.stdout[-1500:] + r.stderr)

    # ---- attacks on the approval ----
    esc_used = ",".join(x.get("escrow", "") for x in runs)
    r = study("alice", alice_lr, "logreg", params, escrows=esc_used)
    t.ok(r.returncode == 1 and r.stderr.count("already run") == 3 and
         "nothing was combined" in r.stderr,
         "a second study on the same approved requests is refused by every owner (used once)",
         r.stderr[-2000:])
    r = study("alice", alice_lr, "logreg", params)
    t.ok(r.returncode == 1 and "nothing was locked" in r.stderr,
         "... and without escrows given, nothing is locked for it", r.stderr[-2000:])
    r = study("alice", alice_st, "stats", {"columns": names[4:8]}, escrows=nobody)
    t.ok(r.returncode == 1 and r.stderr.count("not those approved") == 3,
         "an approval for four columns used for four others is refused by every owner",
         r.stderr[-2000:])
    p2 = dict(params, C=2.0)
    r = study("alice", alice_lr2, "logreg", p2, escrows=nobody)
    t.ok(r.returncode == 1 and r.stderr.count("not those approved") == 3,
         "a study whose parameters differ from the approved ones (C) is refused", r.stderr[-2000:])
    r = study("alice", alice_fine, "km", fine, escrows=nobody)
    t.ok(r.returncode == 1 and "minimum cohort 10" in r.stderr and
         "release policy keeps its partial back" in r.stderr,
         "a Kaplan–Meier grid with cells of 1 to 9 records is kept back by the owners' release "
         "policy (nothing sent)", r.stderr[-2000:])

    # ---- consent: a patient who revoked is left out ----
    subprocess.run([BIN, "keys", "new", "patient0", "--home", os.path.join(cluster, "node-1")],
                   env=e, capture_output=True, text=True)
    # the offers are opt-out (their legal basis allows it): every patient is used until it
    # revokes with the consent key the owner registered for it
    p0 = addr(1, "patient0")
    keys = os.path.join(work, "patient-keys.csv")
    with open(keys, "w") as f:
        f.write("local_id,address\nP0,%s\n" % p0)
    at(1, ["exchange", "patients", "--from", "clinic", "--asset", assets[0], "--data", files[0],
           "--keys", keys, "--out", os.path.join(work, "cards")])
    card = os.path.join(work, "card-P0.json")
    at(1, ["exchange", "opening", "--asset", assets[0], "--patient", "P0", "--out", card])
    at(1, ["exchange", "consent", "--from", "patient0", "--opening", card, "--revoke"])
    kept = np.array([i for i in idx if i != 0])
    r = study("alice", alice_st, "stats", sparams)
    j = json.loads(r.stdout) if r.returncode == 0 else None
    good = j is not None and j["result"]["n"] == 568
    for c, col in enumerate(j["result"]["columns"] if j else []):
        good &= abs(col["mean"] - float(np.mean(X[kept, c]))) < 1e-6
        good &= abs(col["sd"] - float(np.std(X[kept, c], ddof=1))) < 1e-6
    t.ok(good and len(j["result"]["columns"]) == 4,
         "means and standard deviations across the nodes equal numpy's over the 568 rows whose "
         "patients did not revoke (P0 revoked: not in the study's n)", r.stderr[-2000:])
    ex1 = [x for x in (j["sandbox"]["runs_at_owners"] if j else []) if x.get("owner") == 1]
    st, tx = http(urls[0] + "/v1/txs/" + (ex1[0]["exec_tx"] if ex1 else "00"))
    pl = (tx or {}).get("payload", {})
    npat = pl.get("n_patients", len(pl.get("patients", [])) if isinstance(pl.get("patients"), list) else None)
    t.ok(st == 200 and npat == len(parts[0]) - 1,
         "owner 1's execution record lists its patients but P0 (%d)" % (len(parts[0]) - 1),
         (st, npat, str(pl)[:300]))

    # ---- Kaplan–Meier across the nodes vs the product-limit formula on the grid ----
    Tg = np.array([next(g for g in grid if g >= T[i]) for i in kept])
    ref = km_reference(Tg, E[kept], 10)
    r = study("alice", alice_km, "km", kparams)
    j = json.loads(r.stdout) if r.returncode == 0 else None
    t.ok(j is not None and km_equal(j["result"], ref),
         "Kaplan–Meier across the nodes on a grid of %d times equals the pooled product-limit "
         "curve with Greenwood's se (stopping below 10 at risk)" % len(grid),
         (r.stderr[-2000:], j and j["result"], ref))

    # ---- refusals of the parties ----
    r = study("bob", bob_lr, "logreg", params, escrows=nobody)
    t.ok(r.returncode == 1 and r.stderr.count("not approved by the asset's owner") == 3 and
         r.stderr.count("nothing computed") == 3 and "3 of 3 owners refused" in r.stderr,
         "bob (requests not approved) is refused by every owner node, nothing combined",
         r.stderr[-2000:])
    r = study("bob", bob_lr, "logreg", params)
    t.ok(r.returncode == 1 and "nothing was locked" in r.stderr,
         "... and his escrows are refused before anything is locked", r.stderr[-2000:])
    r = study("bob", alice_lr2, "logreg", params, escrows=nobody)
    t.ok(r.returncode == 1 and r.stderr.count("made by another user") == 3,
         "bob using alice's approved requests is refused by every owner node", r.stderr[-2000:])
    r = study("alice", [alice_lr2[0], alice_lr2[0], alice_lr2[2]], "logreg", params,
              escrows=nobody)
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
    shutil.copy(p, p + ".orig")
    with open(p, "a") as f:
        f.write("P9999," + ",".join(["1"] * 30) + ",1,1,1\n")
    r = study("alice", alice_lr2, "logreg", params, escrows=nobody)
    t.ok(r.returncode == 1 and "not the registered data" in r.stderr,
         "a table on the node that is not the registered data is refused", r.stderr[-2000:])
    shutil.move(p + ".orig", p)

    # ---- drop-out: two of three owners stop after round 1 ----
    pids = {}
    for i in (2, 3):
        with open(os.path.join(cluster, "pids", "node-%d.pid" % i)) as f:
            pids[i] = int(f.read().strip())
    go = os.path.join(work, "go1")
    pr = study("alice", alice_st2, "stats", sparams, popen=True,
               env_extra={"LEBEN_STUDY_PAUSE_AFTER": "1:" + go, "LEBEN_TIMEOUT": "8"})
    for _ in range(600):
        if os.path.exists(go + ".ready") or pr.poll() is not None:
            break
        time.sleep(0.1)
    stopped = os.path.exists(go + ".ready")
    if stopped:
        for i in (2, 3):
            os.kill(pids[i], signal.SIGSTOP)
    open(go, "w").close()
    out, err = pr.communicate(timeout=300)
    if stopped:
        for i in (2, 3):
            os.kill(pids[i], signal.SIGCONT)
    t.ok(stopped and pr.returncode == 1 and "2 of the 3 owners stopped answering" in err and
         "at least 2" in err,
         "with two of three owners stopped after round 1 the study fails with a clear error",
         err[-2000:])

    # ---- drop-out: one owner stops after round 1 ----
    time.sleep(2)  # the resumed nodes catch up
    go = os.path.join(work, "go2")
    pr = study("alice", alice_st3, "stats", sparams, popen=True,
               env_extra={"LEBEN_STUDY_PAUSE_AFTER": "1:" + go, "LEBEN_TIMEOUT": "30"})
    for _ in range(600):
        if os.path.exists(go + ".ready") or pr.poll() is not None:
            break
        time.sleep(0.1)
    stopped = os.path.exists(go + ".ready")
    if stopped:
        subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "stop-node", cluster, "3"],
                       env=e, capture_output=True, timeout=120)
    open(go, "w").close()
    out, err = pr.communicate(timeout=300)
    j = json.loads(out) if pr.returncode == 0 else None
    two = np.array([i for i in np.concatenate([parts[0], parts[1]]) if i != 0])
    good = j is not None and j["result"]["n"] == len(two)
    for c, col in enumerate(j["result"]["columns"] if j else []):
        good &= abs(col["mean"] - float(np.mean(X[two, c]))) < 1e-6
        good &= abs(col["sd"] - float(np.std(X[two, c], ddof=1))) < 1e-6
    t.ok(stopped and good and [d["owner"] for d in j["sandbox"]["owners_dropped"]] == [3] and
         j["sandbox"]["runs"] == 2,
         "an owner stopped after round 1 is left out: the study completes over the two others "
         "and equals the pooled statistics over their %d rows" % len(two),
         (err[-2000:], j and j["result"], j and j["sandbox"]))


if __name__ == "__main__":
    main()
