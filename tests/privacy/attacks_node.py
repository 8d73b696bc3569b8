"""Attack families played against one node (the Target of target.py) as the attacker alice,
a data user with approved requests who pays her escrows; bob is a third party reading the
public chain; mallory a stranger with a key. Each attack returns an Outcome (common.py):
the values it recovered, linked to a patient or not, checked against the ground truth."""

import json
import os
import re

import lua
from common import (MIN_COHORT, NUMERIC, Outcome, SuiteRot, hex_ids, patient_id_v1,
                    run_cli, same, scalar)


class Ctx:
    def __init__(self, target):
        self.T = target
        self.truth = target.truth
        self.used_victims = set()

    def victim(self):
        """A patient in the middle of the age range, not used by another attack."""
        for r in self.truth.rows[16:] + self.truth.rows[:16]:
            if 25 <= r["age"] <= 85 and r["patient_id"] not in self.used_victims:
                self.used_victims.add(r["patient_id"])
                return r["patient_id"]
        raise RuntimeError("no victim left")


def note_run(o, R):
    bits = "%s" % R.status
    if R.status == "refused" and R.steps:
        bits += " at %s: %s" % (R.steps[0][0], _first_line(R.steps[0][2]))
    elif R.status in ("withheld", "failed"):
        bits += ": " + _first_line(_reason(R))
    o.note = (o.note + "; " if o.note else "") + bits


def _first_line(s):
    for line in (s or "").splitlines():
        line = line.strip()
        if line and not line.startswith("{") and not line.startswith("}"):
            return line[:140]
    return (s or "").strip()[:140]


def _reason(R):
    if R.run_json and isinstance(R.run_json, dict):
        return str(R.run_json.get("reason", ""))
    return R.reason


def res(R):
    return R.result if isinstance(R.result, dict) else {}


# ==== (a) row-shaped releases from approved Lua scripts ======================================

def a_column_arrays(c):
    o = Outcome()
    R = c.T.run(lua=lua.OLD_COLUMN_ARRAYS)
    note_run(o, R)
    r = res(R)
    ids = r.get("patient_id") or []
    for col in c.truth.rows[0]:
        arr = r.get("col_" + col)
        if col == "patient_id" or not isinstance(arr, list):
            continue
        for i, pid in enumerate(ids):
            if i < len(arr):
                o.link(pid, col, arr[i])
    return o


def a_row_objects(c):
    o = Outcome()
    R = c.T.run(lua=lua.OLD_ROW_OBJECTS)
    note_run(o, R)
    for rec in res(R).get("records") or []:
        if isinstance(rec, dict):
            for col, v in rec.items():
                if col != "id":
                    o.link(rec.get("id"), col, v)
    return o


def a_packed_digits(c):
    o = Outcome()
    R = c.T.run(lua=lua.OLD_PACKED_DIGITS)
    note_run(o, R)
    for v in res(R).get("checksums") or []:
        if not isinstance(v, (int, float)):
            continue
        x = int(round(v))
        event, x = x % 10, x // 10
        t, x = x % 100, x // 100
        outcome, x = x % 10, x // 10
        sbp, x = x % 1000, x // 1000
        sex, x = x % 10, x // 10
        age, k = x % 100, x // 100
        pid = "P%d" % k
        for col, val in (("age", age), ("sex", "M" if sex else "F"), ("sbp", sbp),
                         ("outcome", outcome), ("time", t), ("event", event)):
            o.link(pid, col, val)
    return o


def a_string_blob(c):
    o = Outcome()
    R = c.T.run(lua=lua.OLD_STRING_BLOB)
    note_run(o, R)
    blob = res(R).get("summary")
    if isinstance(blob, str):
        for rec in blob.split(";"):
            f = rec.split(":")
            if len(f) == 7:
                for col, val in zip(("age", "sex", "sbp", "outcome", "time", "event"), f[1:]):
                    o.link(f[0], col, val if col == "sex" else _num(val))
    return o


def _num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def _small_cells(o, truth, col, first, counts):
    """Cells 0 < c < min cohort of per-value counts starting at value `first`: c records'
    values, counted when the truth agrees."""
    for i, cnt in enumerate(counts):
        cnt = scalar(cnt)
        if cnt is None:
            continue
        cnt = int(round(cnt))
        if 0 < cnt < MIN_COHORT:
            have = sum(1 for v in truth.column(col) if v == first + i)
            if have == cnt:
                o.trusted_unlinked += cnt
            else:
                o.bad(cnt)


def _count_list(v):
    """The list of cell counts an aggregate histogram stands for."""
    if isinstance(v, list):
        return v
    if isinstance(v, dict):
        for k in ("counts", "cells", "value", "values"):
            if isinstance(v.get(k), list):
                return v[k]
    return []


def a_cnt(c):
    o = Outcome()
    R = c.T.run(lua=lua.OLD_CNT)
    note_run(o, R)
    _small_cells(o, c.truth, "age", 20, _count_list(res(R).get("cnt")))
    return o


def a_one_patient_n40(c):
    o = Outcome()
    who = c.victim()
    R = c.T.run(lua=lua.OLD_ONE_PATIENT, params={"who": who})
    note_run(o, R)
    for k, v in res(R).items():
        if k.startswith("mean_"):
            o.link(who, k[5:], v if k == "mean_sex" else scalar(v))
    return o


# -- the same attacks adapted to the aggregation interface --

def a_agg_per_patient(c):
    o = Outcome()
    R = c.T.run(lua=lua.AGG_PER_PATIENT)
    note_run(o, R)
    for k, v in res(R).items():
        if ":" in k:
            pid, col = k.split(":", 1)
            o.link(pid, col, scalar(v))
    return o


def a_agg_coerce(c):
    o = Outcome()
    who = c.victim()
    R = c.T.run(lua=lua.AGG_COERCE, params={"who": who})
    note_run(o, R)
    for k, v in res(R).items():
        if re.fullmatch(r"t\d", k):
            o.link(who, "age", scalar(v))
    return o


def a_agg_blob(c):
    o = Outcome()
    R = c.T.run(lua=lua.AGG_BLOB)
    note_run(o, R)
    blob = res(R).get("summary")
    if isinstance(blob, str):
        for pid, num in re.findall(r"(P\d+)=[^;0-9-]*(-?[\d.]+)", blob):
            o.link(pid, "age", _num(num))
    return o


def a_agg_cnt(c):
    o = Outcome()
    R = c.T.run(lua=lua.AGG_CNT)
    note_run(o, R)
    _small_cells(o, c.truth, "age", 20, _count_list(res(R).get("cnt")))
    return o


def _crosstab(v):
    """(row labels, column labels, 2-D counts) of a crosstab aggregate, whatever its keys."""
    if not isinstance(v, dict):
        return None
    rows = v.get("rows") or v.get("row_levels") or v.get("levels_a")
    cols = v.get("cols") or v.get("col_levels") or v.get("levels_b")
    cells = v.get("counts") or v.get("cells") or v.get("table")
    if isinstance(rows, list) and isinstance(cols, list) and isinstance(cells, list):
        return rows, cols, cells
    return None


def a_agg_crosstab(c):
    """agg.crosstab(patient_id, age): one patient per cell, the id and its age; and
    crosstab(sex, age): its small cells."""
    o = Outcome()
    R = c.T.run(lua=lua.AGG_CROSSTAB)
    note_run(o, R)
    r = res(R)
    x = _crosstab(r.get("by_patient"))
    if x:
        rows, cols, cells = x
        for i, pid in enumerate(rows):
            for k, age in enumerate(cols):
                try:
                    n = scalar(cells[i][k])
                except (IndexError, TypeError):
                    n = None
                if n and int(round(n)) == 1:
                    o.link(pid, "age", age)
    y = _crosstab(r.get("by_sex"))
    if y:
        rows, cols, cells = y
        for i, sex in enumerate(rows):
            for k, age in enumerate(cols):
                try:
                    n = scalar(cells[i][k])
                except (IndexError, TypeError):
                    n = None
                if n and 0 < int(round(n)) < MIN_COHORT:
                    have = sum(1 for q in c.truth.rows if q["sex"] == sex and
                               same(q["age"], age))
                    if have == int(round(n)):
                        o.trusted_unlinked += have
                    else:
                        o.bad(int(round(n)))
    return o


def a_agg_one_patient_n40(c):
    o = Outcome()
    who = c.victim()
    R = c.T.run(lua=lua.AGG_ONE_PATIENT, params={"who": who})
    note_run(o, R)
    for k, v in res(R).items():
        if k.startswith("mean_"):
            o.link(who, k[5:], scalar(v))
    return o


def a_agg_two_filters(c):
    o = Outcome()
    who = c.victim()
    R = c.T.run(lua=lua.AGG_TWO_FILTERS, params={"who": who})
    note_run(o, R)
    r = res(R)
    for col in NUMERIC:
        a, b = scalar(r.get("all_" + col), ("sum", "value")), scalar(r.get("but_" + col),
                                                                     ("sum", "value"))
        if a is not None and b is not None:
            o.link(who, col, round(a - b, 6))
    return o


def a_agg_two_filters_disguised(c):
    o = Outcome()
    who = c.victim()
    R = c.T.run(lua=lua.AGG_TWO_FILTERS_DISGUISED, params={"who": who})
    note_run(o, R)
    r = res(R)
    n = scalar(r.get("n"), ("value", "count", "n"))
    m = scalar(r.get("but_n"), ("value", "count", "n"))
    for col in NUMERIC:
        a = scalar(r.get("all_" + col), ("mean", "value"))
        b = scalar(r.get("but_" + col), ("mean", "value"))
        if None not in (a, b, n, m):
            o.link(who, col, round(a * n - b * m, 6))
    return o


def a_agg_threshold(c):
    o = Outcome()
    who = c.victim()
    R = c.T.run(lua=lua.AGG_THRESHOLD, params={"who": who})
    note_run(o, R)
    r = res(R)
    age = c.truth.value(who, "age")
    le = scalar(r.get("at_most"), ("value", "count", "n"))
    lt = scalar(r.get("below"), ("value", "count", "n"))
    ages = c.truth.column("age")
    # a count computed with one patient's value as its threshold was released: the count of
    # patients with exactly that age (le - lt) is a small cell, and the threshold's rank is
    # that patient's position in the age order
    if le is not None:
        if int(le) == sum(1 for a in ages if a <= age):
            o.trusted_linked += 1
        else:
            o.bad()
    if le is not None and lt is not None and 0 < le - lt < MIN_COHORT:
        if int(le - lt) == sum(1 for a in ages if a == age):
            o.trusted_unlinked += int(le - lt)
        else:
            o.bad(int(le - lt))
    return o


# ==== (b) built-in leaks =====================================================================

def _km_cells(o, truth, times, events, censored):
    T = truth.column("time")
    E = truth.column("event")
    for i, t in enumerate(times):
        t = scalar(t)
        if t is None:
            continue
        for arr, ev in ((events, 1), (censored, 0)):
            if i < len(arr):
                d = scalar(arr[i])
                if d is None:
                    continue
                d = int(round(d))
                if 0 < d < MIN_COHORT:
                    if d == sum(1 for a, b in zip(T, E) if a == t and b == ev):
                        o.trusted_unlinked += d
                    else:
                        o.bad(d)


def b_km_cells(c):
    o = Outcome()
    R = c.T.run("km", params={"time": "time", "event": "event"})
    note_run(o, R)
    r = res(R)
    _km_cells(o, c.truth, r.get("time") or [], _count_list(r.get("events")),
              _count_list(r.get("censored")))
    return o


def b_agg_km_cells(c):
    o = Outcome()
    R = c.T.run(lua=lua.AGG_KM)
    note_run(o, R)
    r = res(R)
    ev = _count_list(r.get("events_by_month"))
    ce = _count_list(r.get("censored_by_month"))
    _km_cells(o, c.truth, list(range(1, 61)), ev, ce)
    return o


def _hist_count(R):
    r = res(R)
    for col in r.get("columns") or []:
        h = col.get("histogram") if isinstance(col, dict) else None
        if isinstance(h, dict) and h.get("counts"):
            return scalar(h["counts"][0])
    return None


def _search(lo, hi, pred):
    """Smallest t in [lo, hi] with pred(t) true (pred monotone); None if pred fails."""
    while lo < hi:
        mid = (lo + hi) // 2
        p = pred(mid)
        if p is None:
            return None
        if p:
            hi = mid
        else:
            lo = mid + 1
    return lo


def b_minmax_shifted_bins(c):
    """Histograms of one bin over [t, 1000] and [0, t]: the cell holds every patient exactly
    when t <= min (resp. t >= max); a binary search over t recovers both extremes the policy
    removes."""
    o = Outcome()
    runs = []

    def count(rng):
        R = c.T.run("stats", params={"columns": ["age"], "bins": 1, "range": rng})
        runs.append(R.status)
        return _hist_count(R)

    n = len(c.truth.rows) - len(c.T.excluded)

    def above(t):  # min > t-1 ... true when NOT all >= t
        k = count([t, 1000])
        return None if k is None else k < n

    def below(t):
        k = count([0, t])
        return None if k is None else k >= n

    ages = [r["age"] for r in c.truth.rows if r["patient_id"] not in c.T.excluded]
    m = _search(0, 130, above)
    M = _search(0, 130, below)
    for claim, want in ((None if m is None else m - 1, min(ages)), (M, max(ages))):
        if claim is not None:
            if claim == want:
                o.trusted_unlinked += 1
            else:
                o.bad()
    o.note = "%d runs: %s" % (len(runs), ",".join(sorted(set(s or "?" for s in runs))))
    return o


def b_agg_min_shifted_bounds(c):
    o = Outcome()
    runs = []
    n = len(c.truth.rows) - len(c.T.excluded)

    def above(t):
        R = c.T.run(lua=lua.AGG_COUNT_GE, params={"t": t})
        runs.append(R.status)
        k = scalar(res(R).get("above"), ("value", "count", "n"))
        return True if k is None else k < n   # a refusal: a small count, not everyone

    m = _search(0, 130, above)
    ages = [r["age"] for r in c.truth.rows if r["patient_id"] not in c.T.excluded]
    if m is not None:
        if m - 1 == min(ages):
            o.trusted_unlinked += 1
        else:
            o.bad()
    o.note = "%d runs: %s" % (len(runs), ",".join(sorted(set(s or "?" for s in runs))))
    return o


def b_exact_age_two_runs(c, ages=(50, 51, 52)):
    """#age == a is a withheld cell; [a, 1000] and [a + 1, 1000] are two released cells whose
    difference is it."""
    o = Outcome()
    counts = {}
    sts = []
    for a in list(ages) + [ages[-1] + 1]:
        R = c.T.run("stats", params={"columns": ["age"], "bins": 1, "range": [a, 1000]})
        sts.append(R.status)
        counts[a] = _hist_count(R)
    ages_all = c.truth.column("age")
    for a in ages:
        if counts.get(a) is not None and counts.get(a + 1) is not None:
            d = int(round(counts[a] - counts[a + 1]))
            if 0 < d < MIN_COHORT:
                if d == ages_all.count(a):
                    o.trusted_unlinked += d
                else:
                    o.bad(d)
    o.note = ",".join(s or "?" for s in sts)
    return o


def b_agg_exact_age_two_runs(c, ages=(53, 54)):
    o = Outcome()
    counts = {}
    sts = []
    for a in list(ages) + [ages[-1] + 1]:
        R = c.T.run(lua=lua.AGG_COUNT_GE, params={"t": a})
        sts.append(R.status)
        counts[a] = scalar(res(R).get("above"), ("value", "count", "n"))
    ages_all = c.truth.column("age")
    for a in ages:
        if counts.get(a) is not None and counts.get(a + 1) is not None:
            d = int(round(counts[a] - counts[a + 1]))
            if 0 < d < MIN_COHORT:
                if d == ages_all.count(a):
                    o.trusted_unlinked += d
                else:
                    o.bad(d)
    o.note = ",".join(s or "?" for s in sts)
    return o


def b_agg_exact_age_one_script(c, a=56):
    o = Outcome()
    R = c.T.run(lua=lua.AGG_EXACT_AGE_ONE_SCRIPT, params={"a": a})
    note_run(o, R)
    r = res(R)
    ages_all = c.truth.column("age")
    for x in (a, a + 1):
        p, q = scalar(r.get("ge_%d" % x), ("value", "count", "n")), \
            scalar(r.get("ge_%d" % (x + 1)), ("value", "count", "n"))
        if p is not None and q is not None:
            d = int(round(p - q))
            if 0 < d < MIN_COHORT:
                if d == ages_all.count(x):
                    o.trusted_unlinked += d
                else:
                    o.bad(d)
    return o


# ==== (c) differencing through consent =======================================================

def revoke_by_owner(c, pid):
    r = c.T.cli(["exchange", "consent", "--from", "clinic", "--asset", c.T.asset, "--patient",
                 pid, "--revoke"])
    if r.returncode == 0:
        c.T.excluded.add(pid)
    return r


def _stats_values(R):
    r = res(R)
    out = {}
    for col in r.get("columns") or []:
        if not isinstance(col, dict):
            continue
        name = col.get("name")
        if col.get("mean") is not None and col.get("n") is not None:
            out[name] = ("sum", col["mean"] * col["n"])
        if col.get("levels") and col.get("counts"):
            out[name] = ("levels", dict(zip(col["levels"], col["counts"])))
    return out


def _diff_stats(o, who, A, B):
    a, b = _stats_values(A), _stats_values(B)
    for col in a:
        if col not in b:
            continue
        if a[col][0] == "sum":
            o.link(who, col, round(a[col][1] - b[col][1], 6))
        else:
            for lvl, k in a[col][1].items():
                if k - b[col][1].get(lvl, 0) == 1:
                    o.link(who, col, lvl)


def _diff_sums(o, who, A, B):
    a, b = res(A), res(B)
    for col in NUMERIC:
        x, y = scalar(a.get("sum_" + col), ("sum", "value")), scalar(b.get("sum_" + col),
                                                                     ("sum", "value"))
        if x is not None and y is not None:
            o.link(who, col, round(x - y, 6))
    x, y = scalar(a.get("males"), ("value", "count", "n")), scalar(b.get("males"),
                                                                   ("value", "count", "n"))
    if x is not None and y is not None and x - y in (0, 1):
        o.link(who, "sex", "M" if x - y == 1 else "F")


STATS_ALL = {"columns": ["age", "sex", "sbp", "outcome", "time", "event"]}


def family_c(c):
    """Runs A, revoke V1 (the owner records it for the patient), B, patient23's key revokes
    its own consent (bound first, as today's flow lets the first key), C; the same with the
    aggregation interface. Yields (name, Outcome)."""
    v1 = c.victim()
    v2 = "P23" if "P23" not in c.used_victims else c.victim()
    c.used_victims.add(v2)
    A = c.T.run("stats", params=STATS_ALL)
    Ag = c.T.run(lua=lua.AGG_SUMS)
    r1 = revoke_by_owner(c, v1)
    B = c.T.run("stats", params=STATS_ALL)
    Bg = c.T.run(lua=lua.AGG_SUMS)
    give = c.T.cli(["exchange", "consent", "--from", "patient23", "--asset", c.T.asset,
                    "--patient", v2])
    rev = c.T.cli(["exchange", "consent", "--from", "patient23", "--asset", c.T.asset,
                   "--patient", v2, "--revoke"])
    if rev.returncode == 0:
        c.T.excluded.add(v2)
    C = c.T.run("stats", params=STATS_ALL)
    Cg = c.T.run(lua=lua.AGG_SUMS)
    out = []
    o = Outcome()
    _diff_stats(o, v1, A, B)
    o.note = "revoke %s: %s; runs %s/%s" % (v1, "ok" if r1.returncode == 0 else "refused",
                                             A.status, B.status)
    out.append(("revoke-by-owner-rerun-builtin", o))
    o = Outcome()
    _diff_sums(o, v1, Ag, Bg)
    o.note = "runs %s/%s" % (Ag.status, Bg.status)
    if Ag.status != "delivered":
        note_run(o, Ag)
    out.append(("agg-revoke-by-owner-rerun", o))
    o = Outcome()
    _diff_stats(o, v2, B, C)
    o.note = "patient key give %s, revoke %s; runs %s/%s" % (
        "ok" if give.returncode == 0 else "refused", "ok" if rev.returncode == 0 else "refused",
        B.status, C.status)
    out.append(("patient-revokes-rerun-builtin", o))
    o = Outcome()
    _diff_sums(o, v2, Bg, Cg)
    o.note = "runs %s/%s" % (Bg.status, Cg.status)
    out.append(("agg-patient-revokes-rerun", o))
    return out


# ==== (d) the chain leaks ====================================================================

def public_text(c, request):
    """What bob, a third party, reads about a request on the chain: its log (decoded
    payloads) and the raw txs it names."""
    j = c.T.log(request)
    parts = [json.dumps(j)]
    for ev in j.get("events", []):
        tx = c.T.tx(ev.get("tx", ""))
        if tx:
            parts.append(json.dumps(tx))
    st, rq = c.T.node.get("/v1/exchange/requests/" + request)
    parts.append(json.dumps(rq))
    return "\n".join(parts)


def d_error_text(c):
    o = Outcome()
    R = c.T.run(lua=lua.OLD_ERROR_TEXT)
    note_run(o, R)
    if R.request:
        txt = public_text(c, R.request)
        m = re.search(r"E(\d{2,})", txt)
        if m:
            d = m.group(1)
            for i in range(len(d) // 5):
                o.link("P%d" % int(d[5 * i:5 * i + 3]), "age", int(d[5 * i + 3:5 * i + 5]))
    return o


def d_agg_error_text(c):
    o = Outcome()
    who = c.victim()
    script = ('local v = agg.mean("age", {{col = "patient_id", eq = params.who}})\n'
              'error("check failed: " .. params.who .. "=" .. tostring(v))\n')
    R = c.T.run(lua=script, params={"who": who})
    note_run(o, R)
    if R.request:
        txt = public_text(c, R.request)
        for pid, v in re.findall(r"(P\d+)=(\d+(?:\.\d+)?)", txt):
            o.link(pid, "age", float(v))
    return o


def d_withheld_reason(c):
    o = Outcome()
    R = c.T.run(lua=lua.OLD_WITHHELD_REASON)
    note_run(o, R)
    if R.request:
        txt = public_text(c, R.request)
        m = re.search(r"counts\[0\] = 0\.(\d+)", txt)
        if m:
            digits = m.group(1)
            for i in range(len(digits) // 2):
                o.link("P%d" % (i + 1), "age", int(digits[2 * i:2 * i + 2]))
    return o


def _reason_cells(o, truth, text):
    ages = truth.column("age")
    for idx, v in re.findall(r"histogram\.counts\[(\d+)\] = (\d+)", text):
        a, k = 20 + int(idx), int(v)
        if 0 < k < MIN_COHORT:
            if ages.count(a) == k:
                o.trusted_unlinked += k
            else:
                o.bad(k)


def family_d_reason(c):
    """A withheld histogram (1-year bins): the reason names the first small cell and its
    count; read from the public chain (bob) and from what the user is told (alice)."""
    R = c.T.run("stats", params={"columns": ["age"], "bins": 71, "range": [20, 91]})
    pub = Outcome()
    note_run(pub, R)
    usr = Outcome()
    note_run(usr, R)
    if R.request:
        _reason_cells(pub, c.truth, public_text(c, R.request))
        _reason_cells(usr, c.truth, R.result_text)
    return [("withheld-cell-in-public-note", pub), ("withheld-cell-told-to-user", usr)]


def guessed_ids(asset, public_hex=()):
    """Pseudonyms an attacker computes for P1..P200: the documented v1 pseudonym, and the
    salted v2 commitment (PLAN.md) with the salts an attacker can guess: none, zeros, the
    asset, and every 32-byte value seen in the asset's public records, taken either as the
    patient's salt or as the asset's salt key."""
    out = {}
    a = bytes.fromhex(asset)
    from common import blake2b256
    salts = [b"", bytes(32), a] + [bytes.fromhex(h) for h in list(public_hex)[:1500]]
    for k in range(1, 201):
        pid = "P%d" % k
        loc = pid.encode()
        out[patient_id_v1(asset, pid)] = pid
        for salt in salts:
            out[blake2b256(a + salt + loc, "LEBEN-patient-v2").hex()] = pid
            si = blake2b256(salt + a + loc, "LEBEN-patient-salt-v1")
            out[blake2b256(a + si + loc, "LEBEN-patient-v2").hex()] = pid
    return out


def d_patient_ids(c):
    """bob hashes P1..P200 and tests them against every id in the asset's public history
    (execution lists, consents) and against the per-patient log."""
    o = Outcome()
    log = c.T.log(c.T.asset)
    text = json.dumps(log)
    for ev in log.get("events", []):
        tx = c.T.tx(ev.get("tx", ""))
        if tx:
            text += json.dumps(tx)
    seen = hex_ids(text)
    g = guessed_ids(c.T.asset, seen)
    found = {g[h] for h in seen if h in g}
    # the per-patient log answers for a guessed id
    probe = 0
    for k in (1, 2, 3, 4, 5):
        pid = "P%d" % k
        j = c.T.log(patient_id_v1(c.T.asset, pid))
        if j.get("events"):
            found.add(pid)
            probe += 1
    revoked = set()
    for ev in log.get("events", []):
        d = json.dumps(ev)
        if "revoke" in d:
            revoked |= {g[h] for h in hex_ids(d) if h in g}
    o.trusted_linked = len(found)
    o.note = "%d patients identified in public records (%d revocations named)" % (
        len(found), len(revoked))
    return o


def d_sealed_size(c):
    o = Outcome()
    who = c.victim()
    R0 = c.T.run(lua=lua.OLD_SIZE, params={"who": who, "calibrate": True})
    R1 = c.T.run(lua=lua.OLD_SIZE, params={"who": who})
    note_run(o, R1)
    b0, b1 = _sealed_bytes(c, R0), _sealed_bytes(c, R1)
    if b0 is not None and b1 is not None:
        o.link(who, "age", b1 - b0)
    return o


def _sealed_bytes(c, R):
    if not R.request:
        return None
    st, j = c.T.node.get("/v1/exchange/results/" + R.request)  # anyone may GET it
    if st != 200 or not isinstance(j, dict):
        return None
    return j.get("bytes")


def d_agg_sealed_size(c):
    """The in-script oracle returns as many aggregates as the victim's age; bob calibrates
    the bytes per aggregate with two runs of 0 and 10 aggregates and reads the age off the
    sealed size anyone may GET."""
    o = Outcome()
    who = c.victim()
    R10 = c.T.run(lua=lua.AGG_SIZE_CALIBRATE, params={"k": 10})
    R100 = c.T.run(lua=lua.AGG_SIZE_CALIBRATE, params={"k": 100})
    R1 = c.T.run(lua=lua.AGG_INSCRIPT_ORACLE, params={"who": who, "d": "0123456789",
                                                       "size": True})
    note_run(o, R1)
    b10, b100, b1 = _sealed_bytes(c, R10), _sealed_bytes(c, R100), _sealed_bytes(c, R1)
    if None not in (b10, b100, b1) and b100 > b10:
        step = (b100 - b10) / 90.0
        o.link(who, "age", int(round(10 + (b1 - b10) / step)))
    o.note += "; sizes %s/%s/%s" % (b10, b100, b1)
    return o


# ==== (e) consent identity ===================================================================

def _consent(c, who, pid, revoke=False, asset=None):
    args = ["exchange", "consent", "--from", who, "--asset", asset or c.T.asset, "--patient",
            pid]
    if revoke:
        args.append("--revoke")
    return c.T.cli(args)


def _exec_patients(c, R):
    """The patient ids the execution of a run lists (public), or None."""
    if not R.request:
        return None
    for ev in c.T.log(R.request).get("events", []):
        if ev.get("type") == "xchg.exec":
            return set(ev.get("details", {}).get("patients") or [])
    return None


def family_e(c):
    T = c.T
    out = []
    p31, p32, p33 = "P31", "P32", "P33"
    for p in (p31, p32, p33):
        c.used_victims.add(p)
    # the owner revokes P31 at the patient's request; mallory re-gives it
    revoke_by_owner(c, p31)
    regive = _consent(c, "mallory", p31)
    # mallory binds P32 first; the real patient then tries to revoke
    bind = _consent(c, "mallory", p32)
    real = _consent(c, "patient32", p32, revoke=True)
    if real.returncode == 0:
        T.excluded.add(p32)
    # mallory revokes P33 (a consent that is not his)
    strange_rev = _consent(c, "mallory", p33, revoke=True)
    if strange_rev.returncode == 0:
        T.excluded.add(p33)
    # consent for an asset that is not offered (registered, never offered; and a made-up id)
    unoffered = T.unoffered_asset
    c_unoff = _consent(c, "mallory", "P1", asset=unoffered) if unoffered else None
    c_fake = _consent(c, "mallory", "P1", asset="ab" * 32)
    # a run over the target after all this
    R = T.run("stats", params={"columns": ["age"]})
    listed = _exec_patients(c, R)
    v1 = {patient_id_v1(T.asset, p): p for p in (p31, p32)}
    decodable = listed is not None and any(h in listed for h in
                                           (patient_id_v1(T.asset, "P%d" % k)
                                            for k in range(1, 11)))

    def used(p):
        if decodable:
            return patient_id_v1(T.asset, p) in listed
        return R.status == "delivered"   # conservative: cannot tell, count it

    o = Outcome()
    if regive.returncode == 0 and used(p31):
        o.trusted_linked = 6
    o.note = "stranger's give %s; run %s" % ("accepted" if regive.returncode == 0 else
                                             "refused", R.status)
    out.append(("stranger-regives-revoked", o))
    o = Outcome()
    if bind.returncode == 0 and real.returncode != 0 and used(p32):
        o.trusted_linked = 6
    o.note = "stranger's bind %s; real patient's revoke %s" % (
        "accepted" if bind.returncode == 0 else "refused",
        "accepted" if real.returncode == 0 else "refused")
    out.append(("stranger-binds-first", o))
    o = Outcome()
    if strange_rev.returncode == 0:
        o.trusted_linked = 1   # one patient's consent state set by a stranger
    o.note = "stranger's revoke %s" % ("accepted" if strange_rev.returncode == 0 else "refused")
    out.append(("stranger-revokes-other", o))
    o = Outcome()
    acc = sum(1 for r in (c_unoff, c_fake) if r is not None and r.returncode == 0)
    o.trusted_linked = acc
    o.note = "%d of %d consents for assets not offered accepted" % (
        acc, sum(1 for r in (c_unoff, c_fake) if r is not None))
    out.append(("consent-for-unoffered-asset", o))
    # opt-out: an asset offered with no opt-out flag; nobody consented
    if not getattr(T, "optin_asset", None):
        return out
    o = Outcome()
    if T.optin_asset:
        R2 = T.run("stats", params={"columns": ["age"]}, asset=T.optin_asset,
                   data=T.optin_data)
        note_run(o, R2)
        n = 0
        if R2.run_json and isinstance(R2.run_json, dict):
            n = R2.run_json.get("patients_used") or 0
        n = max(n, int(scalar(res(R2).get("n")) or 0))
        if R2.status == "delivered":
            o.trusted_linked = n * 6
        o.note += "; %d patients without consent used" % n
    out.append(("opt-out-no-consent-used", o))
    return out


# ==== (g) the instruction cap ================================================================

def _sandbox(c, script, instructions=1000000, cpu_ms=1000):
    p = os.path.join(c.T.work, "cap-%d.lua" % abs(hash(script)))
    with open(p, "w") as f:
        f.write(script)
    r = run_cli(["sandbox", "run", "--algorithm", p, "--input", c.T.data, "--instructions",
                 str(instructions), "--cpu-ms", str(cpu_ms), "--json"], timeout=120)
    try:
        return json.loads(r.stdout)
    except ValueError:
        raise SuiteRot("leben sandbox run answered no JSON (%d): %s" % (r.returncode,
                                                                      r.stderr[-300:]))


def _cap(c, script):
    o = Outcome()
    j = _sandbox(c, script)
    sb = j.get("sandbox", {})
    cpu = sb.get("cpu_ms") or 0
    st = sb.get("status")
    released = bool(j.get("release", {}).get("released"))
    # 10^6 instructions take a few ms; a run that used a large part of a second (up to the
    # CPU limit) went past the cap
    if cpu > 250 and st != "instructions":
        o.trusted_unlinked = 1
    o.note = "status %s, cpu %s ms, released %s" % (st, cpu, released)
    return o


def g_gc_finalizer(c):
    return _cap(c, lua.GC_FINALIZER)


def g_pattern(c):
    return _cap(c, lua.PATHOLOGICAL_PATTERN)


def g_xpcall(c):
    return _cap(c, lua.XPCALL_HANDLER)


# ==== (h) a built-in's hash registered by a stranger ==========================================

def h_builtin_author(c):
    o = Outcome()
    T = c.T
    reg = T.cli(["exchange", "algo", "--from", "mallory", "--builtin", "linreg", "--fee", "2",
                 "--name", "linear regression"])
    st, a = T.node.get("/v1/exchange/algorithms/" + _builtin_hash("linreg"))
    mal = T.node.address("mallory")
    before = T.node.account(mal)["balances"]["asc"]
    R = T.run("linreg", params={"y": "sbp", "x": ["age"]})
    after = T.node.account(mal)["balances"]["asc"]
    author = a.get("author") if isinstance(a, dict) else None
    if author == mal and after > before:
        o.trusted_unlinked = 1
    o.note = "registration %s, author %s, mallory paid %s ASC; run %s" % (
        "accepted" if reg.returncode == 0 else "refused",
        "mallory" if author == mal else (author or "none")[:12], (after - before) / 1e6,
        R.status)
    return o


def _builtin_hash(name):
    from common import blake2b256
    return blake2b256(name.encode(), "LEBEN-algo-builtin-v1").hex()


# ==== (i) unlogged views =====================================================================

VIEW_LOG_PATHS = ("/v1/data/assets/%s/log", "/v1/data/log/%s", "/v1/data/%s/log",
                  "/v1/assets/%s/log", "/v1/data/views/%s")


def _heights(c):
    st, ch = c.T.node.get("/v1/chains")
    out = {}
    for x in (ch or {}).get("chains", []) if isinstance(ch, dict) else []:
        if isinstance(x, dict) and x.get("name"):
            out[x["name"]] = int(x.get("height") or 0)
    return out


def _trail(c, ids):
    """A mark of everything recorded about these ids: the exchange log counts, whatever a
    data-layer log route answers (the routes a view log would likely take), and the chains'
    heights (blocks after the mark are searched for the ids by _trail_grew)."""
    n = 0
    for i in ids:
        if i:
            n += len(c.T.log(i).get("events", []))
            for p in VIEW_LOG_PATHS:
                st, j = c.T.node.get(p % i)
                if st == 200:
                    n += len(json.dumps(j))
    return n, _heights(c)


def _trail_grew(c, ids, mark):
    n, heights = _trail(c, ids)
    if n != mark[0]:
        return True
    for name, h in heights.items():
        for height in range(mark[1].get(name, 0) + 1, h + 1):
            st, b = c.T.node.get("/v1/chains/%s/blocks/%d" % (name, height))
            if st == 200 and any(i and i in json.dumps(b) for i in ids):
                return True
    return False


def i_show_private(c):
    o = Outcome()
    ids = [c.T.asset, c.T.data_asset]
    mark = _trail(c, ids)
    r = c.T.cli(["data", "show", c.T.data_asset or c.T.asset, "--private", "--key", "alice",
                 "--json"])
    if r.returncode == 2:
        raise SuiteRot("leben data show: usage error: " + r.stderr[-300:])
    c.T.node.cli(["tx", "transfer", "--from", "bob", "--to", "bob", "--amount", "0.1",
                  "--wait"])  # let any view record reach a block
    grew = _trail_grew(c, ids, mark)
    priv = _json(r.stdout).get("private") or {}
    fields = _leaves({k: v for k, v in priv.items() if k not in ("hexahedron", "public")})
    if r.returncode == 0 and not grew:
        o.trusted_unlinked = fields   # private fields read with no trace
    o.note = "view %s, %s" % ("ok" if r.returncode == 0 else "refused",
                              "a trace appeared" if grew else "no trace")
    return o


def _leaves(v):
    if isinstance(v, dict):
        return sum(_leaves(x) for x in v.values())
    if isinstance(v, list):
        return sum(_leaves(x) for x in v)
    return 1 if v not in (None, "") else 0


def _json(s):
    try:
        return json.loads(s)
    except ValueError:
        return {}


def i_data_get(c):
    o = Outcome()
    ids = [c.T.asset, c.T.data_asset]
    mark = _trail(c, ids)
    out = os.path.join(c.T.work, "got.csv")
    r = run_cli(["data", "get", c.T.data_asset or c.T.asset, "--out", out, "--home",
                 c.T.node.home])
    if r.returncode == 2:
        raise SuiteRot("leben data get: usage error: " + r.stderr[-300:])
    c.T.node.cli(["tx", "transfer", "--from", "bob", "--to", "bob", "--amount", "0.1",
                  "--wait"])
    grew = _trail_grew(c, ids, mark)
    got = 0
    if r.returncode == 0 and os.path.exists(out):
        with open(out) as f:
            head = f.readline().strip().split(",")
            for line in f:
                row = dict(zip(head, line.strip().split(",")))
                for col in NUMERIC + ["sex"]:
                    if str(c.truth.value(row.get("patient_id"), col)) == row.get(col):
                        got += 1
    if not grew:
        o.trusted_linked = got
    o.note = "get %s (%d cells), %s" % ("ok" if r.returncode == 0 else "refused", got,
                                        "a trace appeared" if grew else "no trace")
    return o


# ==== extra: adaptive oracles (released vs withheld, refusals inside a script) ===============

def _status_search(c, script, who):
    runs = []

    def pred(t):  # True when age <= t, i.e. the run is NOT released
        R = c.T.run(lua=script, params={"who": who, "t": t})
        runs.append(R.status)
        if R.status == "refused":
            return None
        return R.status != "delivered"

    v = _search(0, 130, pred)
    return v, runs


def x_status_oracle(c):
    o = Outcome()
    who = c.victim()
    v, runs = _status_search(c, lua.OLD_STATUS_ORACLE, who)
    if v is not None:
        o.link(who, "age", v)
    o.note = "%d runs: %s" % (len(runs), ",".join(sorted(set(str(s) for s in runs))))
    return o


def x_agg_status_oracle(c):
    o = Outcome()
    who = c.victim()
    v, runs = _status_search(c, lua.AGG_STATUS_ORACLE, who)
    if v is not None and len(set(runs)) > 1:
        o.link(who, "age", v)
    o.note = "%d runs: %s" % (len(runs), ",".join(sorted(set(str(s) for s in runs))))
    return o


def x_agg_inscript_oracle(c):
    o = Outcome()
    who = c.victim()
    R = c.T.run(lua=lua.AGG_INSCRIPT_ORACLE, params={"who": who, "d": "0123456789"})
    note_run(o, R)
    r = res(R)
    for k in r:
        m = re.fullmatch(r"k(\d+)", k)
        if m and m.group(1) not in ("0", "130"):
            o.link(who, "age", int(m.group(1)))
    lab = r.get("label")
    if isinstance(lab, str) and re.fullmatch(r"v\d+", lab) and int(lab[1:]) not in (0, 130):
        o.link(who, "age", int(lab[1:]))
    return o


def _block_time(c, txid):
    tx = c.T.tx(txid) if txid else None
    if not tx:
        return None
    h, chain = tx.get("height"), tx.get("chain")
    st, b = c.T.node.get("/v1/chains/%s/blocks/%s" % (chain, h))
    return b.get("time_ms") if st == 200 and isinstance(b, dict) else None


def _exec_tx(c, R):
    for ev in c.T.log(R.request).get("events", []) if R.request else []:
        if ev.get("type") == "xchg.exec":
            return ev.get("tx")
    return None


def x_agg_timing(c):
    """The in-script oracle's bit (age <= t) leaves through run time, read from public block
    times: two runs at t = age - 1 and t = age."""
    o = Outcome()
    who = c.victim()
    age = c.truth.value(who, "age")
    gaps = {}
    for t in (age - 1, age):
        R = c.T.run(lua=lua.AGG_TIMING, params={"who": who, "t": t})
        a, b = _block_time(c, R.escrow), _block_time(c, _exec_tx(c, R))
        gaps[t] = (b - a) if a is not None and b is not None else None
    if gaps.get(age - 1) is not None and gaps.get(age) is not None and \
            gaps[age] - gaps[age - 1] > 500:
        o.trusted_unlinked = 1
    o.note = "escrow-to-exec ms on the chain: %s" % gaps
    return o


def _norm_err(text, t):
    """A failure's text without the numbers the attacker put in (t, t - 1000) and ids."""
    text = re.sub(r"[0-9a-f]{64}", "H", text)
    return re.sub(r"-?\d+(?:\.\d+)?", lambda m: "T" if float(m.group(0)) in (t, t - 1000)
                  else m.group(0), text)


def _result_record(c, R):
    """The public record of a run's result: the xchg.result payload's fields other than ids,
    hashes and heights (status, note or reason code)."""
    out = []
    for ev in c.T.log(R.request).get("events", []) if R.request else []:
        if ev.get("type") == "xchg.result":
            d = ev.get("details") or {}
            for k in sorted(d):
                v = d[k]
                if isinstance(v, str) and not re.fullmatch(r"[0-9a-f]{64}", v):
                    out.append("%s=%s" % (k, v))
                elif isinstance(v, (int, float)) and k not in ("height",):
                    out.append("%s=%s" % (k, v))
    return " ".join(out)


def x_agg_error_code_oracle(c):
    """Error codes and texts distinguishing cohort sizes across runs: a count over
    {victim, age <= t} fails; is its error (the public record, or what the user is told)
    different for one record (t = age) than for none (t = age - 1, and t - 1000)?"""
    o = Outcome()
    who = c.victim()
    age = c.truth.value(who, "age")
    seen = {}
    for label, t in (("one", age), ("none", age - 1), ("ref", age - 1000)):
        R = c.T.run(lua=lua.AGG_ONE_RECORD_ERROR, params={"who": who, "t": t})
        seen[label] = (R.status, _norm_err(_result_record(c, R), t),
                       _norm_err(R.result_text, t))
    one, none, ref = seen["one"], seen["none"], seen["ref"]
    if none == ref and one != none:
        o.trusted_unlinked = 1   # one bit per run: the age by binary search
    o.note = "one: %s / none: %s" % ((one[1] or one[2])[:70], (none[1] or none[2])[:70])
    return o


def d_dry_run_oracle(c):
    """The dry run (POST /v1/exchange/check) answers the user for her own approved request
    with any patients list: guessed pseudonyms in, the revoked ones (and any over their
    budget) out."""
    o = Outcome()
    T = c.T
    r, rq = T.cli_json(["exchange", "request", "--from", "alice", "--asset", T.asset,
                        "--algorithm", "builtin:stats", "--params", '{"columns":["age"]}',
                        "--purpose", "cohort analysis"])
    if r.returncode != 0 or not rq:
        o.note = "request refused"
        return o
    g = guessed_ids(T.asset)
    v1 = sorted(patient_id_v1(T.asset, "P%d" % k) for k in range(1, 201))
    st, j = T.node.http("POST", "/v1/exchange/check",
                        {"request": rq["tx"], "executor": T.node.address("node"),
                         "patients": v1, "exclude_revoked": True})[:2] \
        if hasattr(T.node, "http") else (0, None)
    found = set()
    if st == 200 and isinstance(j, dict):
        for key in ("revoked", "patients_over_budget", "over_budget"):
            for h in j.get(key) or []:
                if isinstance(h, str) and h in g:
                    found.add(g[h])
    wrong = {p for p in found if p not in T.excluded}
    o.trusted_linked = len(found - wrong)
    o.bad(len(wrong))
    o.note = "check HTTP %s: %d patients' consent state read" % (st, len(found))
    return o


def x_timing(c):
    """Run time as an oracle, read by anyone from the chain: the time between the escrow's
    block and the execution's block includes the sandbox run. The script (old interface)
    burns ~0.8 s when the victim's age > t; two runs at t = age - 1 and t = age."""
    o = Outcome()
    who = c.victim()
    script = lua.ROWS + """
local a = 0
for i = 1, N do if ids[i] == params.who then a = C.age[i] end end
if a > params.t then local x = 0; for i = 1, 160000000 do x = x + 1 end end
return {n = N}
"""
    age = c.truth.value(who, "age")
    gaps = {}
    for t in (age - 1, age):
        R = c.T.run(lua=script, params={"who": who, "t": t})
        a, b = _block_time(c, R.escrow), _block_time(c, _exec_tx(c, R))
        gaps[t] = (b - a) if a is not None and b is not None else None
    if gaps.get(age - 1) is not None and gaps.get(age) is not None and \
            gaps[age - 1] - gaps[age] > 500:
        o.trusted_unlinked = 1   # one bit (age > t) per run, so the age by binary search
    o.note = "escrow-to-exec ms on the chain: %s" % gaps
    return o


def c_sybil_revoke_rerun(c):
    """Release history is kept per user: alice runs stats, the owner records a patient's
    revocation, a second account of alice's (keys are free) runs the same stats."""
    o = Outcome()
    v = c.victim()
    syb = c.T.new_user("sybil%d" % (len(c.used_victims) + 100))
    A = c.T.run("stats", params=STATS_ALL)
    revoke_by_owner(c, v)
    B = c.T.run("stats", params=STATS_ALL, user=syb)
    _diff_stats(o, v, A, B)
    o.note = "runs %s/%s (second account)" % (A.status, B.status)
    return o


def a_agg_sybil_two_filters(c):
    """Two accounts, one aggregate each: everyone (alice) and everyone but the victim (a
    second account); no release history compares them."""
    o = Outcome()
    v = c.victim()
    syb = c.T.new_user("sybil%d" % (len(c.used_victims) + 100))
    A = c.T.run(lua=lua.AGG_SUMS)
    B = c.T.run(lua=lua.AGG_SUMS_BUT, params={"who": v}, user=syb)
    note_run(o, B)
    _diff_sums(o, v, A, B)
    return o


def x_sybil_average(c, a=57, k=6):
    """Noise per release and a budget per (user, asset): k fresh accounts each run the two
    one-bin histograms [a, 1000] and [a+1, 1000]; the average of the k differences is the
    withheld cell "age = a". Claimed only with at least 4 accounts' answers."""
    o = Outcome()
    diffs = []
    sts = []
    for i in range(k):
        u = c.T.new_user("avg%d" % i)
        R1 = c.T.run("stats", params={"columns": ["age"], "bins": 1, "range": [a, 1000]},
                     user=u)
        R2 = c.T.run("stats", params={"columns": ["age"], "bins": 1, "range": [a + 1, 1000]},
                     user=u)
        sts += [R1.status, R2.status]
        p, q = _hist_count(R1), _hist_count(R2)
        if p is not None and q is not None:
            diffs.append(p - q)
    if len(diffs) >= 4:
        d = int(round(sum(diffs) / len(diffs)))
        if 0 < d < MIN_COHORT:
            if d == c.truth.column("age").count(a):
                o.trusted_unlinked += d
            else:
                o.bad(d)
    o.note = "%d of %d accounts answered: %s" % (len(diffs), k,
                                                 ",".join(sorted(set(str(x) for x in sts))))
    return o


family_c.names = ["revoke-by-owner-rerun-builtin", "agg-revoke-by-owner-rerun",
                  "patient-revokes-rerun-builtin", "agg-patient-revokes-rerun"]
family_d_reason.names = ["withheld-cell-in-public-note", "withheld-cell-told-to-user"]
family_e.names = ["stranger-regives-revoked", "stranger-binds-first", "stranger-revokes-other",
                  "consent-for-unoffered-asset", "opt-out-no-consent-used"]


# ==== the order the suite plays them in ======================================================

SINGLE = [
    ("a", "column-arrays", a_column_arrays),
    ("a", "row-objects", a_row_objects),
    ("a", "rows-packed-in-digits", a_packed_digits),
    ("a", "string-blob", a_string_blob),
    ("a", "small-cells-named-cnt", a_cnt),
    ("a", "one-patient-declares-n40", a_one_patient_n40),
    ("a", "agg-where-per-patient", a_agg_per_patient),
    ("a", "agg-coerce-to-number", a_agg_coerce),
    ("a", "agg-string-blob", a_agg_blob),
    ("a", "agg-histogram-named-cnt", a_agg_cnt),
    ("a", "agg-crosstab-id-by-age", a_agg_crosstab),
    ("a", "agg-one-patient-declares-n40", a_agg_one_patient_n40),
    ("a", "agg-two-filters-differ-by-one", a_agg_two_filters),
    ("a", "agg-two-filters-disguised", a_agg_two_filters_disguised),
    ("a", "agg-threshold-from-one-patient", a_agg_threshold),
    ("b", "km-small-event-cells", b_km_cells),
    ("b", "agg-km-cells-by-month", b_agg_km_cells),
    ("b", "minmax-shifted-bins", b_minmax_shifted_bins),
    ("b", "agg-min-shifted-bounds", b_agg_min_shifted_bounds),
    ("b", "exact-age-two-runs", b_exact_age_two_runs),
    ("b", "agg-exact-age-two-runs", b_agg_exact_age_two_runs),
    ("b", "agg-exact-age-one-script", b_agg_exact_age_one_script),
    ("c", None, family_c),
    ("c", "sybil-revoke-rerun-builtin", c_sybil_revoke_rerun),
    ("a", "agg-sybil-two-filters", a_agg_sybil_two_filters),
    ("d", "error-text-in-public-note", d_error_text),
    ("d", "agg-error-text-in-public-note", d_agg_error_text),
    ("d", "withheld-reason-packed-values", d_withheld_reason),
    ("d", None, family_d_reason),
    ("d", "sealed-size-tracks-value", d_sealed_size),
    ("d", "agg-sealed-size-tracks-value", d_agg_sealed_size),
    ("e", None, family_e),
    ("d", "patient-ids-guessed", d_patient_ids),
    ("g", "gc-finalizer-past-cap", g_gc_finalizer),
    ("g", "pattern-past-cap", g_pattern),
    ("g", "xpcall-handler-past-cap", g_xpcall),
    ("h", "builtin-hash-registered-by-stranger", h_builtin_author),
    ("i", "data-show-private-unlogged", i_show_private),
    ("i", "data-get-unlogged", i_data_get),
    ("x", "status-oracle-binary-search", x_status_oracle),
    ("x", "agg-status-oracle-binary-search", x_agg_status_oracle),
    ("x", "agg-inscript-oracle-implicit-flow", x_agg_inscript_oracle),
    ("x", "timing-oracle", x_timing),
    ("x", "agg-timing-oracle", x_agg_timing),
    ("x", "agg-error-code-oracle", x_agg_error_code_oracle),
    ("d", "dry-run-consent-oracle", d_dry_run_oracle),
    ("x", "sybil-accounts-average", x_sybil_average),
]
