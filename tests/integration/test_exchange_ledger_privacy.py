#!/usr/bin/env python3
"""Attacks on what the business chain itself tells, through a real node (keep forever):

- nothing secret on the chain: a failed run's error text (carrying a record's value) and a
  withheld run's reason never appear in any tx the node serves (JSON and raw bytes) nor in any
  file of the node's home (blocks, state); the chain records a status and a fixed reason code;
  the user and the asset's owner read the full reason, sealed to them; a third party cannot;
- the privacy budget is on the chain: epsilon is charged by xchg.exec before any release;
  repeated requests of one user exhaust the (user, asset) budget and the next run is refused
  by the node's dry run and by the chain itself (nothing is locked, nothing released); a
  patient's budget is spent across two assets (keyed by the patient's bound consent key) and
  the patient is then left out of a run, and the chain refuses a run that lists it;
- the noise seed: the execution commits to the executor's secret r, the owner reads r sealed
  to it and checks it against the commitment;
- built-in algorithms belong to the platform: registering a built-in's hash is refused, and a
  built-in runs unregistered and pays the owner and the executor, no author."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import addr_bytes, bech32m_encode, blake2b256, run_cli, run_node, uvarint  # noqa: E402

M = 1000000
FEE = 1000  # genesis default fee of a settlement tx (demo home), micro-CSC
NOBODY = bech32m_encode("lb", bytes(20))
CANARY = "LEAKCANARY-7f3a"  # only in the script's error text: the script's bytes are off-chain
SECRET_AGE = 79  # patient P9's age: the failing script puts it in its error text


def builtin_hash(name):
    return blake2b256(name.encode(), "LEBEN-algo-builtin-v1").hex()


def patient_id(home, asset_hex, local):
    """The patient's commitment under the asset's salt key (lb_xchg_patient_commit)."""
    with open(os.path.join(home, "exchange", "salts", asset_hex + ".key"), "rb") as f:
        key = f.read()
    a = bytes.fromhex(asset_hex)
    salt = blake2b256(key + a + local.encode(), "LEBEN-patient-salt-v1")
    return blake2b256(a + salt + local.encode(), "LEBEN-patient-v2").hex()


def write_table(path, rows):
    with open(path, "w") as f:
        f.write("patient_id,age,sex\n")
        for pid, age, sex in rows:
            f.write("%s,%d,%s\n" % (pid, age, sex))


def exec_payload(request, user, owner, author, executor, patients, data_fee, commit):
    """xchg.exec payload (docs/wire-format.md), built independently of the C encoder."""
    p = bytes.fromhex(request) + bytes(32)  # request, escrow (any: the business chain
    # cannot see the settlement chain; the escrow's release checks the terms)
    p += addr_bytes(user) + bytes.fromhex(request) + addr_bytes(owner) + uvarint(data_fee)
    p += addr_bytes(author) + uvarint(0) + addr_bytes(executor) + uvarint(0)
    p += bytes([1, 2]) + uvarint(len(patients)) + b"".join(bytes.fromhex(x) for x in sorted(patients))
    return (p + commit).hex()


def main():
    run_node(run, tmp="leben-ledger-privacy-")


def chain_texts(node):
    """Every tx the node serves, as JSON text and as raw bytes (hex of the signed tx)."""
    st, s = node.get("/v1/chains")
    texts, raws = [], []
    for c in s["chains"]:
        for h in range(0, c["height"] + 1):
            st, blk = node.get("/v1/chains/%s/blocks/%d" % (c["name"], h))
            if st != 200:
                continue
            texts.append(json.dumps(blk))
            for tx in blk.get("txs", []):
                tid = tx["id"] if isinstance(tx, dict) else tx
                st, tj = node.get("/v1/txs/" + tid)
                texts.append(json.dumps(tj))
                st, rc = node.get("/v1/exchange/receipts/" + tid)
                if st == 200:
                    raws.append(bytes.fromhex(rc["tx"]))
    return texts, raws


def home_bytes(node):
    """Every file of the node's home (blocks, state, the exchange's sealed files)."""
    out = []
    for root, _, files in os.walk(node.home):
        for f in files:
            try:
                with open(os.path.join(root, f), "rb") as fh:
                    out.append((os.path.join(root, f), fh.read()))
            except OSError:
                pass
    return out


def run(t, node, tmp):
    for k in ("pq1", "stranger"):
        r = run_cli(["keys", "new", k, "--home", node.home])
        t.ok(r.returncode == 0, "key %s created" % k, r.stderr)
    alice, clinic, execu, pq1 = (node.address(k) for k in ("alice", "clinic", "node", "pq1"))
    node.cli(["tx", "transfer", "--from", "clinic", "--to", "node", "--asset", "csc", "--amount", "20", "--wait"])

    def offer(path, extra):
        r, reg = node.cli_json(["tx", "asset-register", "--from", "clinic", "--content-file", path, "--wait"])
        tick = os.path.join(tmp, "tick-%s.lua" % os.path.basename(path))  # any business tx
        with open(tick, "w") as f:
            f.write("return {n = 0} -- %s\n" % path)
        node.cli(["exchange", "algo", "--from", "bob", "--algorithm-file", tick, "--fee", "0"])
        r, off = node.cli_json(["exchange", "offer", "--from", "clinic", "--asset-tx", reg["id"], "--price", "2",
                                "--min-cohort", "10", "--data", path] + extra)
        t.ok(r.returncode == 0 and off, "asset offered %s" % " ".join(extra), r.stderr)
        node.cli(["exchange", "grant", "--from", "clinic", "--asset", off["asset"], "--executor", "node"])
        return off["asset"]

    def request(asset, algo, params, purpose, script=None):
        args = ["exchange", "request", "--from", "alice", "--asset", asset, "--purpose", purpose]
        args += ["--algorithm-file", script] if script else ["--algorithm", algo]
        if params:
            args += ["--params", params]
        r, rq = node.cli_json(args)
        if rq and rq["status"] == "pending":
            node.cli(["exchange", "approve", "--from", "clinic", "--request", rq["tx"]])
        return rq["tx"] if rq else None

    def run_req(req, data, script=None):
        r, esc = node.cli_json(["exchange", "escrow", "--from", "alice", "--request", req, "--executor", "node",
                                "--compute-fee", "1"])
        if not esc:
            return r, None, None
        args = ["exchange", "run", "--from", "node", "--request", req, "--escrow", esc["escrow"], "--data", data]
        if script:
            args += ["--algorithm-file", script]
        r2, out = node.cli_json(args)
        return r2, out, esc["escrow"]

    # ---- 1. nothing secret on the chain ------------------------------------------------------
    rows = [("P%d" % n, 40 + 3 * n, "F" if n % 2 else "M") for n in range(1, 25)]
    rows[8] = ("P9", SECRET_AGE, "F")
    data = os.path.join(tmp, "cohort.csv")
    write_table(data, rows)
    asset = offer(data, [])
    # a script that fails with a record's value in its error text (whatever the algorithm
    # interface, the canary and the value reach the error)
    leak = os.path.join(tmp, "leak.lua")
    with open(leak, "w") as f:
        f.write("local v = 'none'\n"
                "if data and data.col then v = tostring(data.col('age')[9]) end\n"
                "error('%s age of P9 = ' .. v)\n" % CANARY)
    node.cli(["exchange", "algo", "--from", "bob", "--algorithm-file", leak, "--fee", "1", "--name", "leaky"])
    req_f = request(asset, None, None, "a failing run", script=leak)
    r, run_f, esc_f = run_req(req_f, data, script=leak)
    t.ok(run_f and run_f["status"] == "failed" and CANARY in run_f["reason"],
         "the failing run fails; the executor sees its error text", (r.stdout + r.stderr)[-2000:])
    failed_text = run_f["reason"] if run_f else CANARY
    # a withheld run: 4 patients < the minimum cohort 10
    small = os.path.join(tmp, "small.csv")
    write_table(small, rows[:4])
    # (opt-out with its legal basis: the 4 patients are used, so the cohort rule decides)
    asset_s = offer(small, ["--allow", "builtin:stats", "--opt-out", "--legal-basis",
                            "registry research exemption (test)"])
    req_w = request(asset_s, "builtin:stats", '{"columns": ["age"]}', "a tiny cohort")
    r, run_w, esc_w = run_req(req_w, small)
    t.ok(run_w and run_w["status"] == "withheld" and "minimum cohort" in run_w["reason"],
         "the withheld run is withheld; the executor sees why", (r.stdout + r.stderr)[-2000:])
    withheld_text = run_w["reason"] if run_w else "minimum cohort"

    # the chain records a status and a code, no text
    st, rf = node.get("/v1/exchange/log/" + req_f)
    res = [e["details"] for e in rf["events"] if e["type"] == "xchg.result"]
    t.ok(res and res[0]["status"] == "failed" and res[0]["reason"] == "failed" and res[0]["reason_code"] == 4
         and "note" not in res[0], "the failed run's public record: status failed, reason code 4, no text", res)
    st, rw = node.get("/v1/exchange/log/" + req_w)
    res = [e["details"] for e in rw["events"] if e["type"] == "xchg.result"]
    t.ok(res and res[0]["status"] == "withheld" and res[0]["reason"] == "cohort" and res[0]["reason_code"] == 1,
         "the withheld run's public record: status withheld, reason code 1 (cohort), no text", res)

    st, q1 = node.get("/v1/exchange/requests/" + req_f)
    st, q2 = node.get("/v1/exchange/requests/" + req_w)
    t.ok((q1["status"], q1["reason"], q2["status"], q2["reason"]) == ("failed", "failed", "withheld", "cohort"),
         "the request views show the status and the reason code", (q1, q2))
    texts, raws = chain_texts(node)
    secrets = [CANARY, "age of P9", failed_text, withheld_text, "minimum cohort", "below the minimum"]
    found = [s for s in secrets if any(s in x for x in texts)]
    t.ok(texts and not found, "no error text or withheld reason in any tx or block the node serves", found)
    found = [s for s in secrets if any(s.encode() in x for x in raws)]
    t.ok(raws and not found, "... nor in the raw bytes of any signed tx", found)
    found = [(p, s) for p, b in home_bytes(node) for s in secrets if s.encode() in b]
    t.ok(not found, "... nor in any file of the node's home (blocks, state, sealed files)", found)

    # the user and the owner read the sealed reason; a third party cannot
    r = node.cli(["exchange", "result", "--from", "alice", "--request", req_f])
    t.ok(r.returncode == 1 and CANARY in r.stdout and "no delivered result" in r.stderr,
         "the user reads the failed run's full reason", r.stdout + r.stderr)
    r = node.cli(["exchange", "result", "--from", "alice", "--request", req_w])
    t.ok(r.returncode == 1 and "minimum cohort" in r.stdout, "the user reads why the run was withheld",
         r.stdout + r.stderr)
    r, ow = node.cli_json(["exchange", "result", "--from", "clinic", "--request", req_f, "--as-owner"])
    t.ok(r.returncode == 0 and ow and CANARY in ow["reason"]["reason"] and ow["reason"]["reason_code"] == 4,
         "the owner reads the failed run's full reason", r.stdout + r.stderr)
    for who in ("bob", "stranger"):
        for extra in ([], ["--as-owner"]):
            r = node.cli(["exchange", "result", "--from", who, "--request", req_f] + extra)
            t.ok(r.returncode == 1 and CANARY not in r.stdout + r.stderr,
                 "%s cannot read the sealed reason%s" % (who, " (as owner)" if extra else ""), r.stdout + r.stderr)
    st, sj = node.get("/v1/exchange/results/" + req_f)
    st2, sw = node.get("/v1/exchange/results/" + req_w)
    t.ok(st == 200 and st2 == 200 and len(sj["reason"]) == len(sw["reason"]) and "sealed" not in sj,
         "sealed reasons have one size whatever the text; no result for a failed run", (sj, sw))

    # ---- 2. the privacy budget on the chain --------------------------------------------------
    # asset A: epsilon 1 per release, 2 per user, 3 per patient; asset B holds patient Q1 too
    rows_a = [("Q%d" % n, 30 + n, "F" if n % 2 else "M") for n in range(1, 25)]
    data_a = os.path.join(tmp, "a.csv")
    write_table(data_a, rows_a)
    rows_b = [("Q1", 31, "F")] + [("R%d" % n, 50 + n, "F" if n % 2 else "M") for n in range(1, 24)]
    data_b = os.path.join(tmp, "b.csv")
    write_table(data_b, rows_b)
    optout = ["--opt-out", "--legal-basis", "registry research exemption (test)"]
    a_a = offer(data_a, ["--allow", "builtin:stats", "--epsilon", "1", "--budget-user", "2", "--budget-patient", "3"]
                + optout)
    a_b = offer(data_b, ["--allow", "builtin:stats", "--epsilon", "1", "--budget-user", "5", "--budget-patient", "3"]
                + optout)
    st, o = node.get("/v1/exchange/offers/" + a_a)
    t.ok(o["epsilon"] == M and o["budget_user"] == 2 * M and o["budget_patient"] == 3 * M,
         "the offer carries epsilon and the budgets (micro-units)", o)
    # patient Q1 binds its key on both assets: one budget row for the person
    keys = os.path.join(tmp, "q1-keys.csv")
    with open(keys, "w") as f:
        f.write("local_id,address\nQ1,%s\n" % pq1)
    for a, d in ((a_a, data_a), (a_b, data_b)):
        node.cli(["exchange", "patients", "--from", "clinic", "--asset", a, "--data", d, "--keys", keys,
                  "--out", os.path.join(tmp, "cards-" + a[:8])])
        card = os.path.join(tmp, "q1-%s.json" % a[:8])
        node.cli(["exchange", "opening", "--asset", a, "--patient", "Q1", "--out", card])
        r = node.cli(["exchange", "consent", "--from", "pq1", "--opening", card])
        t.ok(r.returncode == 0, "patient Q1 gives consent with its key", r.stderr)
    params = '{"columns": ["sex"]}'
    bal0 = {k: node.account(k)["balances"] for k in ("clinic", "node", "bob")}
    delivered = 0
    commits = []
    for i in range(2):
        req = request(a_a, "builtin:stats", params, "run %d on A" % i)
        r, out, esc = run_req(req, data_a)
        t.ok(out and out["status"] in ("delivered", "withheld") and out["patients_used"] == 24,
             "run %d on A (epsilon 1) recorded" % (i + 1), (r.stdout + r.stderr)[-1500:])
        delivered += out and out["status"] == "delivered"
        if out:
            st, ex = node.get("/v1/txs/" + out["exec_tx"])
            commits.append((req, ex["payload"]["noise_commit"], ex.get("height")))
    t.eq(delivered, 2, "counts by sex under noise (epsilon 1) are released: honest use still works")
    exact = 0
    for req, _, _ in commits:
        r = node.cli(["exchange", "result", "--from", "alice", "--request", req])
        try:
            res = json.loads(r.stdout)
            col = res["columns"][0]
            exact += [res["n"], col["n"]] + col["counts"] == [24, 24, 12, 12]
        except (ValueError, KeyError, IndexError):
            exact += 1
    t.ok(commits and exact < len(commits), "the released counts carry noise (not all exact in two releases)",
         exact)
    r, b = node.cli_json(["exchange", "budget", "--user", "alice", "--asset", a_a])
    t.ok(b and b["spent_user"] == 2 * M and b["budget_left_user"] == 0,
         "the chain charged alice 2 x epsilon on A: nothing left", b)
    req3 = request(a_a, "builtin:stats", params, "a third look")
    a0 = node.account("alice")["balances"]
    r = node.cli(["exchange", "escrow", "--from", "alice", "--request", req3, "--executor", "node",
                  "--compute-fee", "1"])
    t.ok(r.returncode == 1 and "privacy budget exhausted" in r.stderr and "nothing was locked" in r.stderr,
         "a third request: the dry run refuses, nothing is locked", r.stderr)
    t.eq(node.account("alice")["balances"], a0, "alice's balance is untouched")
    commit = os.urandom(32)
    hexes = node.sign("raw", ["--from", "node", "--chain", "business", "--type-id", str(0x0346), "--payload",
                              exec_payload(req3, alice, clinic, NOBODY, execu,
                                           [patient_id(node.home, a_a, q) for q, _, _ in rows_a[:12]], 2 * M, commit)])
    st, j = node.post_txs({"tx": hexes[0]})
    tid = j.get("ids", [None])[0] if isinstance(j, dict) and j.get("ids") else None
    final = node.wait_tx(tid) if tid else j
    t.ok("privacy budget exhausted" in json.dumps(final), "the chain itself refuses the third execution", final)
    st, rq3 = node.get("/v1/exchange/requests/" + req3)
    st, res3 = node.get("/v1/exchange/results/" + req3)
    t.ok(rq3["status"] == "approved" and st == 404, "nothing ran and no result was released", (rq3, res3))

    # built-ins: paid to the owner and the executor, no author
    bal1 = {k: node.account(k)["balances"] for k in ("clinic", "node", "bob")}
    t.eq(bal1["clinic"]["asc"] - bal0["clinic"]["asc"], 2 * M * delivered,
         "the owner was paid for each delivered built-in run")
    t.ok(bal1["bob"] == bal0["bob"], "no author is paid for a built-in", (bal0["bob"], bal1["bob"]))
    t.eq(bal1["node"]["csc"] - bal0["node"]["csc"], delivered * M - 2 * 2 * FEE,
         "the executor was paid its computing fee (less the fees of its claim and release txs)")

    # the patient's budget across two assets: Q1 spent 2 on A; one run on B spends the third
    r, pb = node.cli_json(["exchange", "budget", "--patient", pq1])
    t.ok(pb and pb["spent_patient"] == 2 * M, "Q1 (by its bound key) spent 2 on asset A", pb)
    req_b1 = request(a_b, "builtin:stats", params, "B first")
    r, out, esc = run_req(req_b1, data_b)
    t.ok(out and out["patients_used"] == 24, "a run on B uses Q1 (its third epsilon)", (r.stdout + r.stderr)[-1500:])
    r, pb = node.cli_json(["exchange", "budget", "--patient", pq1, "--asset", a_b])
    t.ok(pb and pb["spent_patient"] == 3 * M and pb["budget_left_patient"] == 0,
         "Q1's budget is spent, across the two assets", pb)
    req_b2 = request(a_b, "builtin:stats", params, "B second")
    q1b = patient_id(node.home, a_b, "Q1")
    st, plan = node.http("POST", "/v1/exchange/check", {"request": req_b2, "executor": execu,
                                                         "patients": [patient_id(node.home, a_b, x[0]) for x in rows_b],
                                                         "exclude_revoked": True})[:2]
    t.ok(st == 200 and plan["patients_over_budget"] == [q1b] and plan["epsilon"] == M
         and plan["budget_left_user"] == 4 * M, "the dry run names Q1 as over budget", plan)
    r, out, esc = run_req(req_b2, data_b)
    t.ok(out and out["patients_used"] == 23 and out["patients_left_out"] == 1,
         "the next run on B leaves Q1 out", (r.stdout + r.stderr)[-1500:])
    if out:
        st, ex = node.get("/v1/txs/" + out["exec_tx"])
        t.ok(q1b not in ex["payload"]["patients"], "Q1 is not among the patients the run used", ex["payload"])
    r, pb = node.cli_json(["exchange", "budget", "--patient", pq1])
    t.eq(pb and pb["spent_patient"], 3 * M, "Q1 was charged nothing more")
    req_b3 = request(a_b, "builtin:stats", params, "B third")
    hexes = node.sign("raw", ["--from", "node", "--chain", "business", "--type-id", str(0x0346), "--payload",
                              exec_payload(req_b3, alice, clinic, NOBODY, execu, [q1b], 2 * M, commit)])
    st, j = node.post_txs({"tx": hexes[0]})
    tid = j.get("ids", [None])[0] if isinstance(j, dict) and j.get("ids") else None
    final = node.wait_tx(tid) if tid else j
    t.ok("privacy budget exhausted: patient" in json.dumps(final), "the chain refuses a run listing Q1", final)

    # ---- 3. the noise seed: committed in the execution, opened to the owner ------------------
    req, cm, height = commits[0] if commits else (None, None, None)
    r, ow = node.cli_json(["exchange", "result", "--from", "clinic", "--request", req, "--as-owner"])
    audit = ow and ow.get("audit")
    ok = bool(audit) and blake2b256(bytes.fromhex(audit["noise_r"]), "LEBEN-noise-commit-v1").hex() == cm
    st, blk = node.get("/v1/chains/business/blocks/%d" % height) if height is not None else (0, {})
    t.ok(ok and audit["exec_block_hash"] == blk.get("hash"),
         "the owner opens the noise secret: it matches the commitment in xchg.exec and its block", (audit, cm))
    r = node.cli(["exchange", "result", "--from", "alice", "--request", req, "--as-owner"])
    t.ok(audit and audit["noise_r"] not in r.stdout + r.stderr, "the user cannot read the noise secret", r.stdout)

    # ---- 4. built-ins belong to the platform --------------------------------------------------
    r = node.cli(["exchange", "algo", "--from", "stranger", "--builtin", "km", "--fee", "5"])
    t.ok(r.returncode == 1 and "built-in algorithms belong to the platform" in r.stderr,
         "registering a built-in's hash is refused", r.stderr)
    st, a = node.get("/v1/exchange/algorithms/" + builtin_hash("km"))
    t.ok(st == 200 and a["author"] is None and a["fee"] == 0 and a["builtin"], "km stays the platform's", a)

    r = run_cli(["verify", "--home", node.home])
    t.ok(r.returncode == 0, "leben verify replays the whole history", r.stdout + r.stderr)


if __name__ == "__main__":
    main()
