"""The consortium scope: a real three-node consortium (scripts/cluster.sh up 3: etcd ordering,
mutual TLS), started once for every attack here.

- institution-1 holds the clinic: the whole 200-patient table (one asset) for exchange runs
  done off-site at institution-2 (the owner seals the table to institution-2's node key and
  delivers it there; the result is sealed to alice and kept on institution-2's node);
  a third party (bob) reads the chain from institution-3's node.
- the table is also split across three owners (P1, P4, ... at institution-1; P2, P5, ... at
  institution-2; P3, P6, ... at institution-3) for the studies of family f; alice holds an
  approved request at each owner (stats over age, km), paid nothing, and runs
  `leben study run --owners URL1,URL2,URL3`.

The one-node attacks of families a-d are replayed here through the off-site flow (same
functions, the consortium Target below); family f is the studies'."""

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request

import attacks_node as A
from common import (BIN, MIN_COHORT, Outcome, Run, SuiteRot, Truth, make_table, mock_agg,
                    scalar, write_csv)
from lebentest import ROOT, install_tls
from target import OPT_OUT_FLAGS, PATIENT_KEYS

PASS = "cluster"


def env():
    e = dict(os.environ)
    e["LEBEN_PASSPHRASE"] = PASS
    e["LEBEN_BIN"] = BIN
    e.setdefault("LEBEN_CLUSTER_INTERVAL_MS", "50")
    e.pop("LEBEN_NODE", None)
    e.pop("LEBEN_HOME", None)
    return e


def http(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"null")
        except ValueError:
            return e.code, None
    except (urllib.error.URLError, OSError, ValueError):
        return 599, None


class Cluster:
    def __init__(self, work):
        self.dir = os.path.join(work, "cluster")
        self.e = env()
        self.urls = {}

    def up(self):
        r = subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "up", "3", self.dir],
                           env=self.e, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("cluster.sh up 3 failed: " + (r.stdout + r.stderr)[-2000:])
        ce = {}
        with open(os.path.join(self.dir, "cluster.env")) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    ce[k] = v
        self.urls = {i: ce["NODE_API_%d" % i] for i in (1, 2, 3)}
        install_tls(os.path.join(self.dir, "node-1", "tls"))

    def down(self):
        subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "down", self.dir],
                       env=self.e, capture_output=True, timeout=120)

    def home(self, i):
        return os.path.join(self.dir, "node-%d" % i)

    def at(self, i, args, url=None, timeout=300):
        return subprocess.run([BIN] + args + ["--home", self.home(i), "--node",
                                              url or self.urls[i]],
                              env=self.e, capture_output=True, text=True, timeout=timeout)

    def atj(self, i, args, url=None):
        r = self.at(i, args + ["--json"], url)
        try:
            return r, json.loads(r.stdout)
        except ValueError:
            return r, None

    def must(self, i, args, what=None):
        r = self.at(i, args)
        if r.returncode != 0:
            raise RuntimeError("%s: %s%s" % (what or " ".join(args[:2]), r.stdout[-800:],
                                             r.stderr[-800:]))
        return r

    def mustj(self, i, args):
        r, j = self.atj(i, args)
        if r.returncode != 0 or j is None:
            raise RuntimeError("%s: %s%s" % (" ".join(args[:2]), r.stdout[-800:],
                                             r.stderr[-800:]))
        return j

    def addr(self, i, name):
        r = subprocess.run([BIN, "keys", "show", name, "--home", self.home(i), "--json"],
                           env=self.e, capture_output=True, text=True)
        return json.loads(r.stdout)["address"]


class View:
    """What the attack functions call `node`: reads go to institution-3 (a third party's
    view of the shared chain), sealed results to the executor's node (institution-2)."""

    def __init__(self, cl):
        self.cl = cl

    def get(self, path):
        i = 2 if path.startswith("/v1/exchange/results/") else 3
        return http(self.cl.urls[i] + path)

    def address(self, name):
        return self.cl.addr(1, name)

    def account(self, addr):
        return http(self.cl.urls[3] + "/v1/accounts/" + addr)[1]


class ClusterTarget:
    """The consortium's counterpart of common.Target: the same run() through the off-site
    flow (request at institution-1, approval by the clinic, escrow for institution-2, the
    owner's sealed delivery, the run at institution-2, alice's result from there)."""

    def __init__(self, cl, asset, data, truth, work):
        self.cl = cl
        self.node = View(cl)
        self.asset = asset
        self.data = data
        self.truth = truth
        self.work = work
        self.scripts = {}
        self.seq = 0
        self.runs = 0
        self.excluded = set()
        self.n2 = cl.addr(2, "node")

    def cli(self, args, timeout=300):
        return self.cl.at(1, args, timeout=timeout)

    def cli_json(self, args):
        return self.cl.atj(1, args)

    def log(self, subject):
        st, j = self.node.get("/v1/exchange/log/" + subject)
        return j if st == 200 and isinstance(j, dict) else {"events": []}

    def tx(self, txid):
        st, j = self.node.get("/v1/txs/" + txid)
        return j if st == 200 else None

    def script(self, text):
        if text in self.scripts:
            return self.scripts[text]
        self.seq += 1
        p = os.path.join(self.work, "cl-attack-%03d.lua" % self.seq)
        with open(p, "w") as f:
            f.write(text)
        # algorithm nodes publish algorithms: node-1's key (a member of every kind)
        self.cl.at(1, ["exchange", "algo", "--from", "node", "--algorithm-file", p, "--fee", "0",
                       "--name", "analysis c%d" % self.seq])
        self.scripts[text] = p
        return p

    def run(self, algorithm=None, lua=None, params=None, user="alice", **kw):
        import time
        t0 = time.time()
        self.runs += 1
        R = Run()
        cl = self.cl
        args = ["exchange", "request", "--from", user, "--asset", self.asset, "--purpose",
                "registry analysis", "--scenario", "off-site"]
        path = None
        if lua is not None:
            path = self.script(mock_agg(lua))
            args += ["--algorithm-file", path]
        else:
            args += ["--algorithm", "builtin:" + algorithm]
        if params is not None:
            args += ["--params", json.dumps(params)]
        steps = [("request", 1, args)]
        r, rq = cl.atj(1, args)
        if r.returncode != 0 or not rq:
            return self._refuse(R, "request", r, t0)
        R.request = rq["tx"]
        if rq.get("status") == "pending":
            r = cl.at(1, ["exchange", "approve", "--from", "clinic", "--request", R.request])
            if r.returncode != 0:
                return self._refuse(R, "approve", r, t0)
        r, esc = cl.atj(1, ["exchange", "escrow", "--from", user, "--request", R.request,
                            "--executor", self.n2, "--compute-fee", "0.01"])
        if r.returncode != 0 or not esc:
            return self._refuse(R, "escrow", r, t0)
        R.escrow = esc["escrow"]
        r = cl.at(1, ["exchange", "send", "--from", "clinic", "--request", R.request,
                      "--escrow", R.escrow, "--data", self.data, "--to", cl.urls[2]])
        if r.returncode != 0:
            return self._refuse(R, "send", r, t0)
        args = ["exchange", "run", "--from", "node", "--request", R.request, "--escrow",
                R.escrow]
        if path:
            args += ["--algorithm-file", path]
        r, j = cl.atj(2, args)
        R.reason = (r.stdout or "") + (r.stderr or "")
        R.run_json = j
        if not j:
            return self._refuse(R, "run", r, t0)
        R.status = j.get("status")
        out = os.path.join(self.work, "cl-result-%s.json" % R.request[:16])
        r = cl.at(1, ["exchange", "result", "--from", user, "--request", R.request]
                  + (["--out", out] if R.status == "delivered" else []), url=cl.urls[2])
        R.result_text = r.stdout + r.stderr
        if R.status == "delivered":
            try:
                with open(out) as f:
                    R.result = json.load(f)
            except (OSError, ValueError):
                R.result = None
        R.seconds = time.time() - t0
        del steps
        return R

    def new_user(self, name):
        subprocess.run([BIN, "keys", "new", name, "--home", self.cl.home(1)], env=self.cl.e,
                       capture_output=True)
        addr = self.cl.addr(1, name)
        for asset, amount in (("asc", "30"), ("csc", "5")):
            self.cl.at(1, ["tx", "transfer", "--from", "alice", "--to", addr, "--asset", asset,
                           "--amount", amount, "--wait"])
        return name

    def _refuse(self, R, step, r, t0):
        if r.returncode == 2:   # a usage error: the suite no longer speaks the CLI
            raise SuiteRot("leben exchange %s: usage error: %s"
                           % (step, (r.stdout + r.stderr)[-400:]))
        import time
        R.status = "refused"
        R.steps.append((step, r.returncode, (r.stdout + r.stderr)[-600:]))
        R.reason = (r.stdout + r.stderr)[-2000:]
        R.seconds = time.time() - t0
        return R


# ---- setup -----------------------------------------------------------------------------------

def setup(cl, work):
    rows = make_table()
    truth = Truth(rows)
    n = {i: cl.addr(i, "node") for i in (1, 2, 3)}
    # every institution's node key pays the fees of the txs it signs (executions, results,
    # escrow claims and releases of the runs and studies it executes)
    for i in (1, 2, 3):
        for asset in ("csc", "asc"):
            cl.must(1, ["tx", "transfer", "--from", "clinic", "--to", n[i], "--amount", "50",
                        "--asset", asset, "--wait"])
    for k in ("mallory", "patient23", "patient32", "patient33", "patient41", "registry"):
        subprocess.run([BIN, "keys", "new", k, "--home", cl.home(1)], env=cl.e,
                       capture_output=True)

    def register(i, owner, asset, f, part):
        """The owner registers each patient's consent key (exchange patients)."""
        keys = os.path.join(work, "keys-%s.csv" % asset[:8])
        with open(keys, "w") as fh:
            fh.write("local_id,address\n" + "".join(
                "%s,%s\n" % (r["patient_id"], PATIENT_KEYS.get(r["patient_id"], "registry"))
                for r in part))
        cl.at(i, ["exchange", "patients", "--from", owner, "--asset", asset, "--data", f,
                  "--keys", keys, "--out", os.path.join(work, "cards-" + asset[:8])])
    # the whole table at institution-1 (exchange runs off-site at institution-2)
    data = os.path.join(work, "cl-patients.csv")
    write_csv(data, rows)
    reg = cl.mustj(1, ["data", "add", data, "--key", "clinic", "--price", "1", "--name",
                       "cardiology registry"])["tx"]
    cl.must(1, ["tx", "identity", "--from", "clinic", "--role", "provider", "--name",
                "St. Anna", "--wait"])
    for b in ("stats", "km"):
        cl.at(1, ["exchange", "algo", "--from", "clinic", "--builtin", b, "--fee", "0"])
    base = ["exchange", "offer", "--from", "clinic", "--asset-tx", reg, "--price", "1",
            "--min-cohort", str(MIN_COHORT), "--data", data, "--allow",
            "builtin:stats,builtin:km"]
    asset = None
    for flag in OPT_OUT_FLAGS:
        r, off = cl.atj(1, base + flag)
        if r.returncode == 0 and off:
            asset = off["asset"]
            break
    if asset is None:
        asset = cl.mustj(1, base)["asset"]
    register(1, "clinic", asset, data, rows)
    cl.must(1, ["exchange", "grant", "--from", "clinic", "--asset", asset, "--executor", n[2],
                "--kind", "node"])
    T = ClusterTarget(cl, asset, data, truth, work)
    T.optin_asset = T.optin_data = T.unoffered_asset = None   # family e: the acts only
    # the split for the studies
    parts = {1: [], 2: [], 3: []}
    for r in rows:
        parts[(int(r["patient_id"][1:]) - 1) % 3 + 1].append(r)
    owner = {1: "clinic", 2: "node", 3: "node"}
    sassets = {}
    for i in (1, 2, 3):
        f = os.path.join(work, "owner%d.csv" % i)
        write_csv(f, parts[i])
        reg = cl.mustj(i, ["data", "add", f, "--key", owner[i], "--price", "0", "--name",
                           "registry part %d" % i, "--allow-near"])["tx"]
        # a business block after the registration (the offer cites it through one)
        who = "bob" if i == 1 else owner[i]
        cl.must(i, ["tx", "identity", "--from", who, "--role", "data-contributor", "--name",
                    "institution-%d" % i, "--wait"])
        a = cl.mustj(i, ["exchange", "offer", "--from", owner[i], "--asset-tx", reg, "--price",
                         "0", "--min-cohort", str(MIN_COHORT), "--data", f] + OPT_OUT_FLAGS[0])["asset"]
        if i == 1:
            register(1, "clinic", a, f, parts[1])
        sassets[i] = a
        d = os.path.join(cl.home(i), "exchange", "assets")
        os.makedirs(d, exist_ok=True)
        shutil.copy(f, os.path.join(d, a + ".csv"))
    cl.must(1, ["exchange", "grant", "--from", "clinic", "--asset", sassets[1], "--executor",
                n[1], "--kind", "own"])   # the clinic's own node: its study steps run local
    S = {"assets": sassets, "parts": parts, "owner": owner, "truth": truth, "node": n}

    def requests(algo, p):
        out = []
        for i in (1, 2, 3):
            rq = cl.mustj(1, ["exchange", "request", "--from", "alice", "--asset", sassets[i],
                              "--algorithm", "builtin:" + algo, "--params", json.dumps(p),
                              "--purpose", "registry study"])["tx"]
            cl.at(i, ["exchange", "approve", "--from", owner[i], "--request", rq])
            out.append(rq)
        return out

    S["stats_params"] = {"columns": ["age"]}
    S["stats_req"] = requests("stats", S["stats_params"])
    S["fine_params"] = {"columns": ["sbp"], "bins": 141, "range": [80, 221]}
    S["fine_req"] = requests("stats", S["fine_params"])
    S["km_params"] = {"time": "time", "event": "event", "grid": list(range(1, 61))}
    S["km_req"] = requests("km", S["km_params"])
    return T, S


# ---- family f: studies across the nodes ------------------------------------------------------

def study(cl, S, reqs, algo, params, policy=None, work=None, escrows=None):
    args = ["study", "run", "--owners", ",".join(cl.urls[i] for i in (1, 2, 3)), "--requests",
            ",".join(reqs), "--key", "alice", "--algorithm", algo, "--params",
            json.dumps(params)]
    if policy is not None:
        p = os.path.join(work, "study-policy-%d.json" % abs(hash(json.dumps(policy))))
        with open(p, "w") as f:
            json.dump(policy, f)
        args += ["--policy", p]
    if escrows:
        args += ["--escrows", ",".join(escrows)]
    r, j = cl.atj(1, args)
    if r.returncode != 0 and "escrow" in (r.stderr + r.stdout) and escrows is None:
        # the natural adaptation: open the escrows the study now asks for and try again
        es = []
        for i, rq in zip((1, 2, 3), reqs):
            r2, e = cl.atj(1, ["exchange", "escrow", "--from", "alice", "--request", rq,
                               "--executor", S["node"][i], "--compute-fee", "0.01"])
            if r2.returncode == 0 and e:
                es.append(e["escrow"])
        if len(es) == 3:
            return study(cl, S, reqs, algo, params, policy, work, es)
    return r, (j or {})


def _n_mean(j, col):
    res = j.get("result") or {}
    for c in res.get("columns") or []:
        if isinstance(c, dict) and c.get("name") == col:
            return scalar(c.get("n")), scalar(c.get("mean")), c
    return None, None, None


def f_studies(cl, S, work):
    out = []
    truth = S["truth"]
    # f1: the same approved study twice around a revocation (recorded by the owner, for the
    # patient); either the revoked patient's row is still used, or the difference gives it
    victim = "P1"
    r1, j1 = study(cl, S, S["stats_req"], "stats", S["stats_params"])
    rv = cl.at(1, ["exchange", "consent", "--from", "clinic", "--asset", S["assets"][1],
                   "--patient", victim, "--revoke"])
    r2, j2 = study(cl, S, S["stats_req"], "stats", S["stats_params"])
    o = Outcome()
    n1, m1, _ = _n_mean(j1, "age")
    n2, m2, _ = _n_mean(j2, "age")
    if None not in (n1, m1, n2, m2):
        if n2 == n1 and rv.returncode == 0:
            o.trusted_linked = 1           # the revoked patient's age used again
        elif n1 - n2 == 1:
            o.link(victim, "age", round(m1 * n1 - m2 * n2, 6))
    o.note = "study 1 rc %d, revoke %s, study 2 rc %d (n %s -> %s)%s" % (
        r1.returncode, "ok" if rv.returncode == 0 else "refused", r2.returncode, n1, n2,
        "" if r2.returncode == 0 else ": " + A._first_line(r2.stderr))
    out.append(("revoked-patient-in-study-rerun", o))
    # f2: the approval for "age" reused for another column, at 1-unit bins, under the
    # user's own policy (min cohort 1): the owners' policy never sees it
    lo, hi = 80, 221
    p = {"columns": ["sbp"], "bins": hi - lo, "range": [lo, hi]}
    r3, j3 = study(cl, S, S["stats_req"], "stats", p, policy={"min_cohort": 1}, work=work)
    o = Outcome()
    _, _, col = _n_mean(j3, "sbp")
    h = (col or {}).get("histogram") or {}
    sbps = truth.column("sbp")
    for k, cnt in enumerate(h.get("counts") or []):
        cnt = int(round(scalar(cnt) or 0))
        if 0 < cnt < MIN_COHORT:
            if sbps.count(lo + k) == cnt:
                o.trusted_unlinked += cnt
            else:
                o.bad(cnt)
    o.note = "rc %d%s" % (r3.returncode, "" if r3.returncode == 0 else ": " +
                          A._first_line(r3.stderr))
    out.append(("approval-reused-other-column-own-policy", o))
    # f2b: the same histogram, this time asked for and approved by every owner: the owners'
    # release policy must still hold on each partial and on the sum
    r5, j5 = study(cl, S, S["fine_req"], "stats", S["fine_params"], policy={"min_cohort": 1},
                   work=work)
    o = Outcome()
    _, _, col = _n_mean(j5, "sbp")
    h = (col or {}).get("histogram") or {}
    for k, cnt in enumerate(h.get("counts") or []):
        cnt = int(round(scalar(cnt) or 0))
        if 0 < cnt < MIN_COHORT:
            if sbps.count(80 + k) == cnt:
                o.trusted_unlinked += cnt
            else:
                o.bad(cnt)
    o.note = "rc %d%s" % (r5.returncode, "" if r5.returncode == 0 else ": " +
                          A._first_line(r5.stderr))
    out.append(("approved-fine-histogram-own-policy", o))
    # f3: Kaplan–Meier on a 1-month grid under the user's policy: every (time, event)
    r4, j4 = study(cl, S, S["km_req"], "km", S["km_params"], policy={"min_cohort": 1},
                   work=work)
    o = Outcome()
    res = j4.get("result") or {}
    A._km_cells(o, truth, res.get("time") or [], A._count_list(res.get("events")),
                A._count_list(res.get("censored")))
    o.note = "rc %d%s" % (r4.returncode, "" if r4.returncode == 0 else ": " +
                          A._first_line(r4.stderr))
    out.append(("km-per-time-cells-own-policy", o))
    # f4: what the chain knows about these studies: an execution in each asset's log, an
    # escrow paid; records used with neither count
    o = Outcome()
    unlogged = 0
    ran = sum(1 for r in (r1, r2, r3, r4, r5) if r.returncode == 0)
    for i in (1, 2, 3):
        st, lg = http(cl.urls[3] + "/v1/exchange/log/" + S["assets"][i])
        execs = [e for e in (lg or {}).get("events", [])
                 if e.get("type") == "xchg.exec" or "study" in str(e.get("type"))]
        if ran and len(execs) < ran:
            unlogged += len(S["parts"][i])   # each of its patients used with no trace
    o.trusted_linked = unlogged
    st, acc = http(cl.urls[3] + "/v1/accounts/" + cl.addr(1, "alice"))
    o.note = "%d studies ran; asset logs hold %s" % (ran, "no execution" if unlogged else
                                                     "their executions")
    out.append(("studies-unlogged-unpaid", o))
    return out


# ---- the consortium's part of the suite -------------------------------------------------------

REPLAYED = [
    ("a", "column-arrays", A.a_column_arrays),
    ("a", "one-patient-declares-n40", A.a_one_patient_n40),
    ("a", "agg-two-filters-differ-by-one", A.a_agg_two_filters),
    ("b", "km-small-event-cells", A.b_km_cells),
    ("b", "exact-age-two-runs", A.b_exact_age_two_runs),
    ("c", None, A.family_c),
    ("c", "sybil-revoke-rerun-builtin", A.c_sybil_revoke_rerun),
    ("a", "agg-sybil-two-filters", A.a_agg_sybil_two_filters),
    ("d", "error-text-in-public-note", A.d_error_text),
    ("d", None, A.family_d_reason),
    ("d", "sealed-size-tracks-value", A.d_sealed_size),
    ("d", "patient-ids-guessed", A.d_patient_ids),
    ("e", None, A.family_e),
    ("h", "builtin-hash-registered-by-stranger", A.h_builtin_author),
    ("x", "agg-inscript-oracle-implicit-flow", A.x_agg_inscript_oracle),
]

F_NAMES = ["revoked-patient-in-study-rerun", "approval-reused-other-column-own-policy",
           "approved-fine-histogram-own-policy", "km-per-time-cells-own-policy",
           "studies-unlogged-unpaid"]


def wanted(s):
    return any(s.want(fam, name, fn) for fam, name, fn in REPLAYED) or \
        any(s.want("f", n) for n in F_NAMES)


def play(s, work):
    cl = Cluster(work)
    try:
        cl.up()
        T, S = setup(cl, work)
        R = T.run("stats", params={"columns": ["age", "sbp"]})
        r = R.result if isinstance(R.result, dict) else {}
        s.tap(R.status == "delivered" and scalar(r.get("n")) is not None and
              abs(scalar(r.get("n")) - 200) <= 5,
              "control: honest stats off-site at institution-2 is released (consortium)",
              "%s %s" % (R.status, R.reason[-600:]))
        ctx = A.Ctx(T)
        for fam, name, fn in REPLAYED:
            if s.want(fam, name, fn):
                s.play(fam, name, fn, ctx, "consortium", T.truth)
        if any(s.want("f", n) for n in F_NAMES):
            r, j = study(cl, S, S["stats_req"], "stats", S["stats_params"])
            n, m, _ = _n_mean(j, "age")
            s.tap(r.returncode == 0 and n is not None and abs(n - 200) <= 5,
                  "control: an honest study across the three nodes is released (consortium)",
                  (r.stdout + r.stderr)[-800:])
            s.play("f", None, lambda c: f_studies(cl, S, work), None, "consortium", T.truth)
    finally:
        cl.down()
