"""The privacy attack suite's common part: the ground truth (a patient table), the scoring
of recovered values against it, and the attacker's view of a real node (`Target`): each run
goes through the honest flow (request, owner approval, escrow, run by the owner's node,
sealed result opened by the user).

python3 standard library only; tests/integration/lebentest.py provides the node."""

import json
import os
import random
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import lebentest  # noqa: E402
from lebentest import Node, blake2b256, run_cli  # noqa: E402,F401

BIN = lebentest.BIN

MIN_COHORT = 10
NPAT = 200
COLS = ["age", "sex", "sbp", "outcome", "time", "event"]
NUMERIC = ["age", "sbp", "outcome", "time", "event"]


# ---- the ground truth ----------------------------------------------------------------------

def make_table(seed=20261206, n=NPAT):
    """200 patients P1..P200 with a fixed seed: age 20..90, sex F/M, systolic pressure,
    a binary outcome, follow-up time 1..60 months and an event flag."""
    rnd = random.Random(seed)
    rows = []
    for k in range(1, n + 1):
        age = rnd.randint(20, 90)
        sex = rnd.choice("FM")
        sbp = int(round(95 + 0.8 * age + rnd.gauss(0, 12)))
        outcome = 1 if rnd.random() < 0.2 + 0.006 * (age - 20) else 0
        t = rnd.randint(1, 60)
        event = 1 if rnd.random() < 0.55 else 0
        rows.append({"patient_id": "P%d" % k, "age": age, "sex": sex, "sbp": sbp,
                     "outcome": outcome, "time": t, "event": event})
    return rows


def write_csv(path, rows):
    with open(path, "w") as f:
        f.write("patient_id," + ",".join(COLS) + "\n")
        for r in rows:
            f.write(r["patient_id"] + "," + ",".join(str(r[c]) for c in COLS) + "\n")


class Truth:
    def __init__(self, rows):
        self.rows = rows
        self.by_id = {r["patient_id"]: r for r in rows}

    def value(self, pid, col):
        r = self.by_id.get(pid)
        return None if r is None else r.get(col)

    def column(self, col):
        return [r[col] for r in self.rows]


def same(a, b):
    if a is None or b is None:
        return False
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    try:
        return abs(float(a) - float(b)) < 1e-6
    except (TypeError, ValueError):
        return False


class Outcome:
    """What one attack got: linked (patient id, column, value) and unlinked (column, value)
    recoveries as the attacker claims them; `acts` for attacks whose win is not a data value
    (a consent act by a stranger, a fee diverted, a view with no log entry) counted as the
    values they expose; `note` says what happened."""

    def __init__(self):
        self.linked = []
        self.unlinked = []
        self.trusted_linked = 0    # already checked against the truth by the attack itself
        self.trusted_unlinked = 0
        self.wrong = 0             # claims the attack itself found wrong (same weight)
        self.note = ""
        self.error = None

    def link(self, pid, col, value):
        self.linked.append((pid, col, value))

    def unlink(self, col, value, count=1):
        for _ in range(int(count)):
            self.unlinked.append((col, value))

    def bad(self, weight=1):
        self.wrong += weight

    def score(self, truth):
        """(linked, unlinked) correct recoveries. An attacker who cannot tell its right
        claims from its wrong ones (noise) recovers nothing: when more than 10% of the
        claims of one attack are wrong, the attack scores 0."""
        seen = set()
        nl = wrong = 0
        for pid, col, v in self.linked:
            if (pid, col) in seen:
                continue
            seen.add((pid, col))
            if same(truth.value(pid, col), v):
                nl += 1
            else:
                wrong += 1
        pools = {}
        nu = 0
        for col, v in self.unlinked:
            pool = pools.setdefault(col, list(truth.column(col)))
            for i, t in enumerate(pool):
                if same(t, v):
                    del pool[i]
                    nu += 1
                    break
            else:
                wrong += 1
        nl += self.trusted_linked
        nu += self.trusted_unlinked
        wrong += self.wrong
        if wrong and wrong > 0.1 * (nl + nu + wrong):
            self.note = (self.note + "; " if self.note else "") + \
                "%d of %d claims wrong: nothing the attacker can trust" % (wrong, nl + nu + wrong)
            return 0, 0
        return nl, nu


# ---- walking a released result ------------------------------------------------------------

def numbers(obj):
    """Every number in a JSON value (aggregate objects included), depth first."""
    out = []
    if isinstance(obj, bool):
        return out
    if isinstance(obj, (int, float)):
        out.append(obj)
    elif isinstance(obj, dict):
        for k in sorted(obj):
            out += numbers(obj[k])
    elif isinstance(obj, list):
        for v in obj:
            out += numbers(v)
    return out


def scalar(v, prefer=("value", "mean", "sum", "count", "n")):
    """The number an aggregate leaf stands for: a number, or the first of `prefer` in an
    object, or its only number."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    if isinstance(v, dict):
        for k in prefer:
            if k in v and isinstance(v[k], (int, float)) and not isinstance(v[k], bool):
                return v[k]
        ns = numbers(v)
        if len(ns) == 1:
            return ns[0]
    return None


# ---- the attacker's view of a node ---------------------------------------------------------

class SuiteRot(RuntimeError):
    """The CLI refused our usage (exit 2) or answered in a shape we cannot read: the suite
    must be updated, which is not a win for the platform (reported as a crash, not ok)."""


class Run:
    """One run through the whole flow, as the attacker (the user) saw it."""

    def __init__(self):
        self.request = None
        self.escrow = None
        self.status = None        # delivered, withheld, failed, refused (a step refused)
        self.reason = ""          # what the run told the executor's CLI (stdout/stderr)
        self.result = None        # the opened result (JSON) when delivered
        self.result_text = ""     # what `exchange result` printed
        self.run_json = None
        self.steps = []           # (step, returncode, stderr) of refused steps
        self.seconds = 0.0

    def refused(self):
        return self.status == "refused"


class Target:
    """A real node holding the patient table, offered for exchange with min cohort 10."""

    def __init__(self, node, data, asset, work, truth):
        self.node = node
        self.data = data
        self.asset = asset
        self.work = work
        self.truth = truth
        self.scripts = {}   # script text -> file path (registered)
        self.seq = 0
        self.runs = 0
        self.excluded = set()   # patients whose consent was revoked (the run must leave them out)

    # -- helpers --
    def cli(self, args, timeout=300):
        return self.node.cli(args, timeout=timeout)

    def cli_json(self, args, timeout=300):
        r = self.node.cli(args + ["--json"], timeout=timeout)
        try:
            return r, json.loads(r.stdout)
        except ValueError:
            return r, None

    def script(self, text, author="alice"):
        """The path of a Lua script (registered once by its author, fee 0)."""
        if text in self.scripts:
            return self.scripts[text]
        self.seq += 1
        p = os.path.join(self.work, "attack-%03d.lua" % self.seq)
        with open(p, "w") as f:
            f.write(text)
        r = self.cli(["exchange", "algo", "--from", author, "--algorithm-file", p, "--fee", "0",
                      "--name", "analysis %d" % self.seq])
        if r.returncode != 0 and "already" not in r.stderr:
            # registration refused: the request will say so
            pass
        self.scripts[text] = p
        return p

    def run(self, algorithm=None, lua=None, params=None, asset=None, data=None, user="alice",
            owner="clinic", executor="node", approve=True, purpose="cohort analysis"):
        """request -> (owner approves) -> escrow -> run -> result, as the honest flow does.
        Returns a Run; a refused step ends it with status "refused"."""
        t0 = time.time()
        self.runs += 1
        R = Run()
        asset = asset or self.asset
        data = data or self.data
        args = ["exchange", "request", "--from", user, "--asset", asset, "--purpose", purpose]
        path = None
        if lua is not None:
            path = self.script(mock_agg(lua))
            args += ["--algorithm-file", path]
        else:
            args += ["--algorithm", "builtin:" + algorithm]
        if params is not None:
            args += ["--params", json.dumps(params)]
        r, rq = self.cli_json(args)
        if r.returncode != 0 or not rq:
            return self._refuse(R, "request", r, t0)
        R.request = rq["tx"]
        if rq.get("status") == "pending" and approve:
            r = self.cli(["exchange", "approve", "--from", owner, "--request", R.request,
                          "--reason", "aggregate analysis"])
            if r.returncode != 0:
                return self._refuse(R, "approve", r, t0)
        r, esc = self.cli_json(["exchange", "escrow", "--from", user, "--request", R.request,
                                "--executor", executor, "--compute-fee", "0.01"])
        if r.returncode != 0 or not esc:
            return self._refuse(R, "escrow", r, t0)
        R.escrow = esc["escrow"]
        args = ["exchange", "run", "--from", "node", "--request", R.request, "--escrow",
                R.escrow, "--data", data]
        if path:
            args += ["--algorithm-file", path]
        r, j = self.cli_json(args)
        R.reason = (r.stdout or "") + (r.stderr or "")
        R.run_json = j
        if not j:
            return self._refuse(R, "run", r, t0)
        R.status = j.get("status")
        if R.status == "delivered":
            out = os.path.join(self.work, "result-%s.json" % R.request[:16])
            r = self.cli(["exchange", "result", "--from", user, "--request", R.request, "--out",
                          out])
            R.result_text = r.stdout + r.stderr
            try:
                with open(out) as f:
                    R.result = json.load(f)
            except (OSError, ValueError):
                R.result = None
        else:
            r = self.cli(["exchange", "result", "--from", user, "--request", R.request])
            R.result_text = r.stdout + r.stderr
        R.seconds = time.time() - t0
        return R

    def new_user(self, name):
        """A fresh account (keys are free): a key in the node's home, paid by alice."""
        run_cli(["keys", "new", name, "--home", self.node.home])
        addr = self.node.address(name)
        for asset, amount in (("asc", "30"), ("csc", "5")):
            self.cli(["tx", "transfer", "--from", "alice", "--to", addr, "--asset", asset,
                      "--amount", amount, "--wait"])
        return name

    def _refuse(self, R, step, r, t0):
        if r.returncode == 2:   # a usage error: the suite no longer speaks the CLI
            raise SuiteRot("leben exchange %s: usage error: %s"
                           % (step, (r.stdout + r.stderr)[-400:]))
        R.status = "refused"
        R.steps.append((step, r.returncode, (r.stdout + r.stderr)[-600:]))
        R.reason = (r.stdout + r.stderr)[-2000:]
        R.seconds = time.time() - t0
        return R

    # -- public views (what anyone can read) --
    def log(self, subject):
        st, j = self.node.get("/v1/exchange/log/" + subject)
        return j if st == 200 else {"events": []}

    def tx(self, txid):
        st, j = self.node.get("/v1/txs/" + txid)
        return j if st == 200 else None



def mock_agg(script):
    """With PRIVACY_AGG_MOCK=naive|checked, an agg script gets a stand-in aggregation
    interface written over data.col (lua.agg_mock), to check the attacks' decoding."""
    mode = os.environ.get("PRIVACY_AGG_MOCK")
    if not mode or "agg." not in script:
        return script
    import lua
    return lua.agg_mock(mode == "checked") + script


def patient_id_v1(asset_hex, local):
    """The pseudonym the docs describe: H("LEBEN-patient-v1" || asset || local id)."""
    return blake2b256(bytes.fromhex(asset_hex) + local.encode(), "LEBEN-patient-v1").hex()


def hex_ids(text):
    return set(re.findall(r"[0-9a-f]{64}", text))
