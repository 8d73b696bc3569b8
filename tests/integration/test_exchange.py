#!/usr/bin/env python3
"""Trusted data exchange through a real node, driven by `leben exchange` and the API:
offer -> request -> approve -> escrow -> run -> output policy -> sealed result -> payment
split -> audit log, with every figure checked against an independent computation (python's
statistics module for the result, blake2b for hashes and patient commitments, balance
arithmetic for the split). Patients are registered with their consent keys and give consent
(opt-in). Refusals: an unapproved algorithm and a revoked consent are each
refused with a clear error by the node's check and by the chain itself, and nothing is
released or charged; a wrong owner is refused; an escrow is refunded after its timeout and
after a withheld result (proven across chains); the history replays with `leben verify`."""

import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import (Tap, addr_bytes, bech32m_encode, blake2b256, patient_commitment,  # noqa: E402
                       run_cli, run_node, salt_key)

M = 1000000
FEE = 1000  # genesis default fee of a settlement tx (demo home), micro-CSC
PARAMS = '{"columns": ["age", "systolic", "hba1c"]}'  # what the user asks stats to describe
NOBODY = bech32m_encode("lb", bytes(20))  # the author of a built-in algorithm: none


def bal(node, name):
    b = node.account(name)["balances"]
    return b["asc"], b["csc"]


def register_patients(t, node, tmp, asset, data, keys, what):
    """The owner registers the patients' consent keys (local id -> key name); returns the
    opening card of each local id."""
    kf = os.path.join(tmp, "keys-%s.csv" % asset[:8])
    with open(kf, "w") as f:
        f.write("local_id,address\n")
        for local, k in keys.items():
            f.write("%s,%s\n" % (local, node.address(k)))
    r, reg = node.cli_json(["exchange", "patients", "--from", "clinic", "--asset", asset, "--data", data,
                             "--keys", kf, "--out", os.path.join(tmp, "cards-" + asset[:8])])
    t.ok(r.returncode == 0 and reg and reg["registered"] == len(keys), what, r.stdout + r.stderr)
    return {p["local_id"]: p["card"] for p in (reg or {}).get("patients", [])}


def builtin_hash(name):
    return blake2b256(name.encode(), "LEBEN-algo-builtin-v1").hex()


def uvar(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def exec_payload(request, user, owner, author, executor, patients, data_fee=0, algo_fee=0):
    """xchg.exec payload (docs/wire-format.md), built independently of the C encoder."""
    p = bytes.fromhex(request) + bytes(32)  # request, escrow (none)
    p += addr_bytes(user) + bytes.fromhex(request) + addr_bytes(owner) + uvar(data_fee)
    p += addr_bytes(author) + uvar(algo_fee) + addr_bytes(executor) + uvar(0)
    p += bytes([1, 2]) + uvar(len(patients)) + b"".join(bytes.fromhex(x) for x in sorted(patients))
    p += bytes(32)  # noise commitment (the offer has no epsilon)
    return p.hex()


def write_table(path, rows):
    with open(path, "w") as f:
        f.write("patient_id,age,systolic,hba1c\n")
        for r in rows:
            f.write("%s,%d,%d,%d\n" % r)


def main():
    t = Tap()
    r = run_cli(["exchange", "--help"])
    t.ok(r.returncode == 0 and "usage: leben exchange" in r.stdout and "--home" in r.stdout,
         "leben exchange --help", r.stderr)
    r = run_cli(["exchange", "nosuchstep"])
    t.ok(r.returncode == 2 and "exchange --help" in r.stderr, "unknown step: usage error", r.stderr)
    run_node(run, tmp="leben-xchg-", t=t)


def run(t, node, tmp):
    for k in ("patient7", "patient3", "patients"):
        r = run_cli(["keys", "new", k, "--home", node.home])
        t.ok(r.returncode == 0, "key %s created" % k, r.stderr)
    alice, clinic, bob, execu = (node.address(k) for k in ("alice", "clinic", "bob", "node"))
    rows = [("P%d" % n, 40 + 3 * n, 118 + 2 * n, 50 + n % 5) for n in range(1, 13)]
    data = os.path.join(tmp, "cohort.csv")
    write_table(data, rows)

    # ---- the owner registers, identifies itself (anchors the registration), offers ------------
    r, reg = node.cli_json(["tx", "asset-register", "--from", "clinic", "--content-file", data, "--wait"])
    t.ok(r.returncode == 0 and reg, "asset registered in the directory", r.stderr)
    r = node.cli(["tx", "identity", "--from", "clinic", "--role", "provider", "--name", "St. Anna", "--wait"])
    t.ok(r.returncode == 0, "clinic identity (business block after the registration)", r.stderr)
    r = node.cli(["tx", "transfer", "--from", "clinic", "--to", "node", "--asset", "csc", "--amount", "10", "--wait"])
    t.ok(r.returncode == 0, "executor funded with CSC for settlement fees", r.stderr)

    r = node.cli(["exchange", "offer", "--from", "bob", "--asset-tx", reg["id"], "--price", "5"])
    t.ok(r.returncode == 1 and "wrong owner" in r.stderr and "LB_EUNAUTH" in r.stderr,
         "offer by someone else: refused, wrong owner", r.stderr)
    r, off = node.cli_json(["exchange", "offer", "--from", "clinic", "--asset-tx", reg["id"],
                             "--price", "5", "--min-cohort", "10", "--data", data])
    t.ok(r.returncode == 0 and off and len(off["asset"]) == 64, "offer by the owner", r.stderr)
    asset = off["asset"]
    # the asset id is H("LEBEN-asset-v1" || owner address || nonce) of the registration
    st, regtx = node.get("/v1/txs/" + reg["id"])
    want = blake2b256(addr_bytes(clinic) + regtx["nonce"].to_bytes(8, "big"), "LEBEN-asset-v1").hex()
    t.eq(asset, want, "asset id derived from the directory registration")
    st, o = node.get("/v1/exchange/offers/" + asset)
    t.ok(st == 200 and o["owner"] == clinic and o["data_fee"] == 5 * M and o["min_cohort"] == 10
         and o["allow"] == [] and o["content_hash"] == blake2b256(open(data, "rb").read()).hex(),
         "GET /v1/exchange/offers: owner, price, policy, content hash, empty allow-list", o)

    r = node.cli(["exchange", "grant", "--from", "clinic", "--asset", asset, "--executor", "node"])
    t.ok(r.returncode == 0, "execution right granted to the node", r.stderr)
    r = node.cli(["exchange", "algo", "--from", "bob", "--builtin", "stats", "--fee", "1"])
    t.ok(r.returncode == 1 and "built-in algorithms belong to the platform" in r.stderr and "LB_EDENIED" in r.stderr,
         "registering a built-in algorithm's hash is refused", r.stdout + r.stderr)
    st, ba = node.get("/v1/exchange/algorithms/" + builtin_hash("stats"))
    t.ok(st == 200 and ba["builtin"] is True and ba["author"] is None and ba["fee"] == 0 and ba["name"] == "stats",
         "a built-in algorithm is known without registration: no author, no fee", ba)
    script = os.path.join(tmp, "mine.lua")
    with open(script, "w") as f:
        f.write("return {n = agg.count()}\n")
    r = node.cli(["exchange", "algo", "--from", "bob", "--algorithm-file", script, "--fee", "1", "--name", "count"])
    t.ok(r.returncode == 0, "second algorithm (a script) registered", r.stderr)
    script_hash = blake2b256(open(script, "rb").read()).hex()

    # ---- API errors: malformed and unknown ids, bad bodies ---------------------------------------
    st, j = node.get("/v1/exchange/offers/xyz")
    t.ok(st == 400 and j["error"]["code"] == "LB_EMALFORMED", "GET offers/xyz: 400 LB_EMALFORMED", j)
    st, j = node.get("/v1/exchange/requests/" + "ab" * 32)
    t.ok(st == 404 and j["error"]["code"] == "LB_ENOTFOUND", "unknown request: 404 LB_ENOTFOUND", j)
    st, j = node.get("/v1/exchange/escrows/" + "ab" * 32)
    t.ok(st == 404 and "no escrow" in j["error"]["message"], "unknown escrow: 404", j)
    st, j = node.http("POST", "/v1/exchange/check", "[1,2")[:2]
    t.ok(st == 400, "check with a body that is not JSON: 400", j)
    st, j = node.http("POST", "/v1/exchange/check", {"request": "ab" * 32, "executor": "lb1nope"})[:2]
    t.ok(st == 400 and "executor" in j["error"]["message"], "check with a bad executor address: 400", j)
    st, j = node.get("/v1/exchange/receipts/" + reg["id"] + "?anchor=nowhere")
    t.ok(st == 400 and "anchor" in j["error"]["message"], "receipt with an unknown anchor chain: 400", j)
    st, j = node.get("/v1/exchange/results/" + "ab" * 32)
    t.ok(st == 404, "no sealed result for an unknown request: 404", j)

    # ---- requests: default nothing runs ---------------------------------------------------------
    r, rq = node.cli_json(["exchange", "request", "--from", "alice", "--asset", asset,
                            "--algorithm", "builtin:stats", "--params", PARAMS, "--purpose", "hypertension study"])
    t.ok(r.returncode == 0 and rq["status"] == "pending", "request waits for the owner (not on the allow-list)", r.stderr)
    req = rq["tx"]
    r, rq2 = node.cli_json(["exchange", "request", "--from", "alice", "--asset", asset,
                             "--algorithm", script_hash, "--purpose", "count rows"])
    t.ok(r.returncode == 0 and rq2["status"] == "pending", "second request (script) pending", r.stderr)
    unapproved = rq2["tx"]
    r = node.cli(["exchange", "approve", "--from", "alice", "--request", req])
    t.ok(r.returncode == 1 and "wrong owner" in r.stderr, "approval by the user: refused, wrong owner", r.stderr)
    r = node.cli(["exchange", "approve", "--from", "clinic", "--request", req, "--reason", "aggregates"])
    t.ok(r.returncode == 0, "owner approves the stats request", r.stderr)
    r = node.cli(["exchange", "approve", "--from", "clinic", "--request", req])
    t.ok(r.returncode == 1 and "not waiting for a decision" in r.stderr, "second approval refused", r.stderr)

    # ---- consent: registered keys, opt-in ----------------------------------------------------
    keys = {"P%d" % n: "patients" for n in range(1, 13)}
    keys.update({"P7": "patient7", "P3": "patient3"})
    cards = register_patients(t, node, tmp, asset, data, keys, "the owner registers the 12 patients' consent keys")
    p7 = patient_commitment(salt_key(node.home, asset), asset, "P7")
    st, c7 = node.get("/v1/exchange/consents/%s/%s" % (asset, p7))
    t.ok(st == 200 and c7["status"] == "registered" and c7["key"] == node.address("patient7"),
         "GET /v1/exchange/consents: P7 registered to patient7's key, no consent yet", c7)
    for local, k in sorted(keys.items()):
        if k == "patients":
            r = node.cli(["exchange", "consent", "--from", "patients", "--opening", cards[local]])
            if r.returncode:
                t.ok(False, "patient %s gives consent with its opening card" % local, r.stderr)
    r = node.cli(["exchange", "consent", "--from", "patient3", "--opening", cards["P3"]])
    t.ok(r.returncode == 0, "patient 3 gives consent (opening card)", r.stderr)
    r = node.cli(["exchange", "consent", "--from", "patient7", "--asset", asset, "--patient", p7])
    t.ok(r.returncode == 0, "patient 7 gives consent", r.stderr)
    r = node.cli(["exchange", "consent", "--from", "patient3", "--asset", asset, "--patient", p7, "--revoke"])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr, "another key cannot revoke patient 7's consent", r.stderr)
    r = node.cli(["exchange", "consent", "--from", "patient7", "--asset", asset, "--patient", p7, "--revoke"])
    t.ok(r.returncode == 0, "patient 7 revokes consent", r.stderr)

    # ---- refusals: nothing released or charged ---------------------------------------------------
    before = {k: bal(node, k) for k in ("alice", "clinic", "bob", "node")}
    r = node.cli(["exchange", "escrow", "--from", "alice", "--request", unapproved, "--executor", "node",
                  "--compute-fee", "2"])
    t.ok(r.returncode == 1 and "unapproved algorithm" in r.stderr and "LB_EDENIED" in r.stderr
         and "nothing was locked" in r.stderr, "escrow for an unapproved algorithm: refused, clear error", r.stderr)
    st, j = node.http("POST", "/v1/exchange/check", {"request": unapproved, "executor": execu, "patients": []})[:2]
    t.ok(st == 403 and j["error"]["code"] == "LB_EDENIED" and "unapproved algorithm" in j["error"]["message"],
         "POST /v1/exchange/check: unapproved algorithm -> 403 LB_EDENIED", j)
    hexes = node.sign("raw", ["--from", "node", "--chain", "business", "--type-id", str(0x0346), "--payload",
                              exec_payload(unapproved, alice, clinic, bob, execu, [])])
    st, j = node.post_txs({"tx": hexes[0]})
    t.ok(st != 202 and "unapproved algorithm" in json.dumps(j), "the chain refuses an execution of an unapproved algorithm", j)
    st, j = node.http("POST", "/v1/exchange/check", {"request": req, "executor": execu, "patients": [p7]})[:2]
    t.ok(st == 403 and "revoked consent" in j["error"]["message"] and p7 in j["error"]["message"],
         "check with a revoked patient: 403 naming the patient", j)
    hexes = node.sign("raw", ["--from", "node", "--chain", "business", "--type-id", str(0x0346), "--payload",
                              exec_payload(req, alice, clinic, NOBODY, execu, [p7], 5 * M, 0)])
    st, j = node.post_txs({"tx": hexes[0]})
    t.ok(st != 202 and "revoked consent" in json.dumps(j), "the chain refuses an execution over a revoked consent", j)
    hexes = node.sign("raw", ["--from", "bob", "--chain", "business", "--type-id", str(0x0346), "--payload",
                              exec_payload(req, alice, clinic, NOBODY, bob, [], 5 * M, 0)])
    st, j = node.post_txs({"tx": hexes[0]})
    t.ok(st != 202 and "no execution right" in json.dumps(j), "the chain refuses an executor without execution right", j)
    after = {k: bal(node, k) for k in ("alice", "clinic", "bob", "node")}
    t.eq(after, before, "after the refusals every balance is unchanged")
    st, rqj = node.get("/v1/exchange/requests/" + req)
    t.eq(rqj["status"], "approved", "the refused executions left the request as it was")

    # ---- escrow -> run -> sealed result -> split ---------------------------------------------
    a0, c0, b0, n0 = (bal(node, k) for k in ("alice", "clinic", "bob", "node"))
    r, esc = node.cli_json(["exchange", "escrow", "--from", "alice", "--request", req, "--executor", "node",
                             "--compute-fee", "2"])
    t.ok(r.returncode == 0 and esc, "escrow opened", r.stderr)
    a1 = bal(node, "alice")
    t.eq((a0[0] - a1[0], a0[1] - a1[1]), (5 * M, 2 * M + FEE), "escrow locked 5 ASC (a built-in costs nothing) and 2 CSC (+ the tx fee)")
    st, e = node.get("/v1/exchange/escrows/" + esc["escrow"])
    t.ok(st == 200 and e["status"] == "open" and e["owner"] == clinic and e["author"] == NOBODY
         and e["executor"] == execu and e["data_fee"] == 5 * M and e["algo_fee"] == 0 and e["compute_fee"] == 2 * M,
         "GET /v1/exchange/escrows: terms recorded (no author for a built-in)", e)
    bad = os.path.join(tmp, "other.csv")
    write_table(bad, rows[:-1])
    r = node.cli(["exchange", "run", "--from", "node", "--request", req, "--escrow", esc["escrow"], "--data", bad])
    t.ok(r.returncode == 1 and "not the data registered" in r.stderr, "run on other data than the asset: refused", r.stderr)
    r, run = node.cli_json(["exchange", "run", "--from", "node", "--request", req, "--escrow", esc["escrow"],
                             "--data", data])
    t.ok(r.returncode == 0 and run and run["status"] == "delivered", "run delivered", r.stdout + r.stderr)
    t.eq((run["patients_used"], run["patients_left_out"], run["sandbox"]["rows_left_out"]), (11, 1, 1),
         "11 patients used; the revoked one's row left out inside the sandbox")
    t.ok(run["sandbox"]["status"] == "ok" and run["algorithm"] == "stats", "the run went through the sandbox", run)
    t.eq(run["scenario"], "local", "scenario chosen automatically: local (small data, portable algorithm)")

    # the result, opened by alice, equals an independent computation without P7
    out = os.path.join(tmp, "result.json")
    r = node.cli(["exchange", "result", "--from", "alice", "--request", req, "--out", out])
    t.ok(r.returncode == 0 and "checked against the chain" in r.stdout, "alice opens her sealed result", r.stderr)
    text = open(out, "rb").read()
    st, sj = node.get("/v1/exchange/results/" + req)
    t.eq(blake2b256(bytes.fromhex(sj["sealed"])).hex(), run["result_hash"],
         "result hash = BLAKE2b-256 of the sealed result the user fetches (not of the guessable text)")
    st, rqj = node.get("/v1/exchange/requests/" + req)
    t.ok(rqj["status"] == "done" and rqj["result_hash"] == run["result_hash"] and rqj["scenario"] == "local",
         "the business chain records the result hash and the scenario", rqj)
    res = json.loads(text)
    kept = [x for x in rows if x[0] != "P7"]
    cols = {c["name"]: c for c in res.get("columns", [])}
    ok = res["n"] == 11 and sorted(cols) == ["age", "hba1c", "systolic"]
    for i, col in ((1, "age"), (2, "systolic"), (3, "hba1c")):
        vals = [x[i] for x in kept]
        c = cols.get(col, {})
        ok = ok and c.get("n") == 11 and abs(c["mean"] - statistics.mean(vals)) < 1e-9
        ok = ok and abs(c["sd"] - statistics.stdev(vals)) < 1e-9
        ok = ok and "min" not in c and "max" not in c  # single records' values are not released
    t.ok(ok, "statistics match python's statistics module over the 11 consenting patients (no extremes)", res)
    st, rtx = node.get("/v1/txs/" + req)
    t.eq(rtx["payload"]["params"], json.loads(PARAMS), "the request carries the parameters the owner approved")
    r = node.cli(["exchange", "result", "--from", "bob", "--request", req])
    t.ok(r.returncode == 1, "someone else cannot open alice's result", r.stdout)

    # ---- the result shared to an attribute policy (CP-ABE, docs/security.md §11) -------------
    r = node.cli(["abe", "setup", "--json"])
    auth = json.loads(r.stdout)["authority"] if r.returncode == 0 else ""
    abe_dir = os.path.join(tmp, "abe")
    os.makedirs(abe_dir)
    for k, attrs in (("colleague", "statistician,study:CHD"), ("outsider", "statistician")):
        run_cli(["keys", "new", k, "--home", node.home])
        f = os.path.join(abe_dir, k)
        r1 = node.cli(["abe", "keygen", "--user", k, "--attrs", attrs, "--out", f])
        r2 = node.cli(["abe", "import", f, "--key", k])
        t.ok(r1.returncode == 0 and r2.returncode == 0, "ABE key for %s (%s)" % (k, attrs),
             r1.stderr + r2.stderr)
    r = node.cli(["exchange", "result", "--from", "colleague", "--request", req])
    t.ok(r.returncode == 1, "before alice shares it, the colleague cannot open the result", r.stderr)
    r = node.cli(["exchange", "result", "--from", "alice", "--request", req, "--out", out,
                  "--share-policy", "statistician AND study:CHD", "--authority", auth])
    t.ok(r.returncode == 0 and "abe.share" in r.stderr, "alice shares the result to a policy",
         r.stdout + r.stderr)
    out2 = os.path.join(abe_dir, "shared.json")
    r = node.cli(["exchange", "result", "--from", "colleague", "--request", req, "--out", out2])
    t.ok(r.returncode == 0 and open(out2, "rb").read() == text,
         "a colleague whose attributes satisfy the policy opens the same result", r.stderr)
    r = node.cli(["exchange", "result", "--from", "outsider", "--request", req])
    t.ok(r.returncode == 1 and '"n"' not in r.stdout,
         "a key with only 'statistician' does not open it", r.stderr)
    st, sh = node.get("/v1/abe/shares/%s/%s" % (req, node.address("alice")))
    t.ok(st == 200 and sh["sender"] == node.address("alice"), "GET /v1/abe/shares names alice", sh)
    # bob seals something else to the same policy and shares it for alice's request: it is kept
    # under bob's name, the colleague still reads alice's result
    fake = os.path.join(abe_dir, "fake")
    open(fake, "w").write('{"n": 999}')
    r = node.cli(["abe", "encrypt", "--policy", "statistician", "--authority", auth, "--in", fake,
                  "--out", fake + ".abe"])
    ct = open(fake + ".abe", "rb").read()
    n, v = len(ct), b""
    while True:
        v += bytes([(n & 0x7f) | (0x80 if n >> 7 else 0)])
        n >>= 7
        if not n:
            break
    r = node.cli(["tx", "raw", "--from", "bob", "--chain", "directory", "--type-id", str(0x0234),
                  "--payload", (bytes.fromhex(req) + b"\x01" + v + ct).hex(), "--wait"])
    t.ok(r.returncode == 0, "bob's own abe.share for the request is accepted (kept as bob's)",
         r.stdout + r.stderr)
    r = node.cli(["exchange", "result", "--from", "colleague", "--request", req, "--out", out2])
    t.ok(r.returncode == 0 and open(out2, "rb").read() == text,
         "the colleague still reads alice's result, not bob's substitute", r.stderr)
    # someone else's share for the request (bob is not its user) is not accepted
    r = node.cli(["exchange", "result", "--from", "bob", "--request", req, "--share-policy",
                  "statistician", "--authority", auth])
    t.ok(r.returncode == 1, "bob cannot open (so cannot share) alice's result", r.stderr)
    st, j = node.http("POST", "/v1/exchange/results/" + req,
                      {"sealed": "00" * 40, "pk": node.key("bob")["public_key"],
                       "sig": "00" * 64})[:2]
    t.ok(st == 403 and j["error"]["code"] == "LB_EUNAUTH", "only the executor may replace the sealed result", j)
    st, j = node.get("/v1/exchange/results/" + req)
    t.ok(st == 200 and j["bytes"] > len(text), "the executor's sealed result is still there", j)

    a2, c2, b2, n2 = (bal(node, k) for k in ("alice", "clinic", "bob", "node"))
    t.eq(c2[0] - c0[0], 5 * M, "owner received the data fee (5 ASC)")
    t.eq(b2[0] - b0[0], 0, "a built-in algorithm pays no author")
    t.eq(n2[1] - n0[1], 2 * M - 2 * FEE, "executor received 2 CSC (less its claim and release fees)")
    t.eq(a2, a1, "the user paid nothing beyond the escrow")
    st, e = node.get("/v1/exchange/escrows/" + esc["escrow"])
    t.ok(e["status"] == "released" and e["result_hash"] == run["result_hash"], "escrow released with the result hash", e)
    hexes = node.sign("raw", ["--from", "node", "--chain", "settlement", "--type-id", str(0x0111), "--payload",
                              esc["escrow"] + "0000"])
    st, j = node.post_txs({"tx": hexes[0]})
    t.ok(st != 202 and "already released" in json.dumps(j), "a second release is refused", j)

    # ---- audit log --------------------------------------------------------------------------
    r, log = node.cli_json(["exchange", "log", "--asset", asset])
    types = [ev["type"] for ev in log["events"]] if log else []
    t.eq(types, ["xchg.offer", "xchg.grant", "xchg.request", "xchg.request", "xchg.approve", "xchg.patients"]
         + ["xchg.consent"] * 13 + ["xchg.exec", "xchg.result"], "asset history: every step in order")
    ex = [ev for ev in log["events"] if ev["type"] == "xchg.exec"][0] if log else {}
    t.ok(ex.get("by") == execu and ex.get("payment", {}).get("escrow") == "released"
         and ex["payment"]["data_fee"] == 5 * M and log["paid"] == {"asc": 5 * M, "csc": 2 * M},
         "the run names the executor and what was paid", log)
    st, plog = node.get("/v1/exchange/log/" + patient_commitment(salt_key(node.home, asset), asset, "P1"))
    t.ok(st == 200 and [e["type"] for e in plog["events"]] == ["xchg.patients", "xchg.consent", "xchg.exec"]
         and plog["events"][2]["details"]["request"] == req, "patient P1's history: registered, consented, used in the run", plog)
    r, p7log = node.cli_json(["exchange", "log", "--patient", "P7", "--asset", asset])
    t.ok(r.returncode == 0 and [e["details"].get("action") for e in p7log["events"]] == [None, "give", "revoke"],
         "patient P7's history: registered, consent given and revoked, never used", p7log)
    r = node.cli(["exchange", "log", "--asset", asset])
    t.ok(r.returncode == 0 and "data used in a run" in r.stdout and "paid: 5 ASC data + 0 ASC algorithm + 2 CSC" in r.stdout,
         "readable history says who used the data and what was paid", r.stdout)

    # ---- refund after the timeout ---------------------------------------------------------------
    r, rq3 = node.cli_json(["exchange", "request", "--from", "alice", "--asset", asset,
                             "--algorithm", "builtin:stats", "--params", PARAMS, "--purpose", "second look"])
    req3 = rq3["tx"]
    node.cli(["exchange", "approve", "--from", "clinic", "--request", req3])
    a0 = bal(node, "alice")
    r, esc3 = node.cli_json(["exchange", "escrow", "--from", "alice", "--request", req3, "--executor", "node",
                              "--compute-fee", "1", "--timeout-blocks", "2"])
    t.ok(r.returncode == 0, "escrow with a 2-block timeout", r.stderr)
    r = node.cli(["exchange", "refund", "--from", "alice", "--escrow", esc3["escrow"]])
    t.ok(r.returncode == 1 and "times out after settlement height" in r.stderr, "refund before the timeout: refused", r.stderr)
    for _ in range(3):
        node.cli(["tx", "transfer", "--from", "bob", "--to", "bob", "--amount", "0.1", "--wait"])
    r = node.cli(["exchange", "refund", "--from", "alice", "--escrow", esc3["escrow"]])
    t.ok(r.returncode == 0, "refund after the timeout", r.stderr)
    a1 = bal(node, "alice")
    t.eq((a1[0], a0[1] - a1[1]), (a0[0], 2 * FEE), "ASC and CSC back to the user (only the escrow and refund fees spent)")
    st, e = node.get("/v1/exchange/escrows/" + esc3["escrow"])
    t.eq(e["status"], "refunded", "escrow refunded")
    r = node.cli(["exchange", "run", "--from", "node", "--request", req3, "--escrow", esc3["escrow"], "--data", data])
    t.ok(r.returncode == 1 and "not open" in r.stderr, "no run on a refunded escrow", r.stderr)

    # ---- a result withheld by the output policy: refunded, citing the business-chain result ----
    small = os.path.join(tmp, "small.csv")
    write_table(small, rows[:4])
    r, reg2 = node.cli_json(["tx", "asset-register", "--from", "clinic", "--content-file", small, "--wait"])
    node.cli(["exchange", "consent", "--from", "patient3", "--asset", asset, "--patient", "P3"])
    r, off2 = node.cli_json(["exchange", "offer", "--from", "clinic", "--asset-tx", reg2["id"], "--price", "3",
                              "--min-cohort", "10", "--allow", "builtin:stats"])
    t.ok(r.returncode == 0, "second asset offered with stats on its allow-list", r.stderr)
    cards2 = register_patients(t, node, tmp, off2["asset"], small, {"P%d" % n: "patients" for n in range(1, 5)},
                               "the second asset's 4 patients registered")
    for local in sorted(cards2):
        node.cli(["exchange", "consent", "--from", "patients", "--opening", cards2[local]])
    node.cli(["exchange", "grant", "--from", "clinic", "--asset", off2["asset"], "--executor", "node"])
    r, rq4 = node.cli_json(["exchange", "request", "--from", "alice", "--asset", off2["asset"],
                             "--algorithm", "builtin:stats", "--params", PARAMS, "--purpose", "tiny cohort"])
    t.ok(r.returncode == 0 and rq4["status"] == "approved" and rq4["approved_by"] == "allow-list",
         "allow-listed algorithm: approved at once", rq4)
    a0, c0 = bal(node, "alice"), bal(node, "clinic")
    r, esc4 = node.cli_json(["exchange", "escrow", "--from", "alice", "--request", rq4["tx"], "--executor", "node",
                              "--compute-fee", "1"])
    r, run4 = node.cli_json(["exchange", "run", "--from", "node", "--request", rq4["tx"], "--escrow",
                              esc4["escrow"], "--data", small])
    t.ok(r.returncode == 0 and run4["status"] == "withheld" and "below the minimum cohort 10" in run4["reason"],
         "4 patients < minimum cohort 10: withheld, with the reason", r.stdout + r.stderr)
    a1, c1 = bal(node, "alice"), bal(node, "clinic")
    t.eq((a1[0], a0[1] - a1[1], c1), (a0[0], FEE, c0), "withheld: user refunded (only the escrow fee), owner unpaid")
    r = node.cli(["exchange", "result", "--from", "alice", "--request", rq4["tx"]])
    t.ok(r.returncode == 1 and "no delivered result" in r.stderr, "no result to open when withheld", r.stderr)

    # ---- a script that tries to read a file: stopped in the sandbox, the run fails, refunded ----
    escape = os.path.join(tmp, "escape.lua")
    with open(escape, "w") as f:
        f.write("local f = io.open('/etc/passwd')\nreturn {n = 100, text = f:read('a')}\n")
    node.cli(["exchange", "algo", "--from", "bob", "--algorithm-file", escape, "--fee", "1", "--name", "reader"])
    # parameters up to the chain's 4096 bytes go through; longer ones are refused before sending
    big = json.dumps({"columns": ["age"], "note": "x" * 3000})
    r, rq5 = node.cli_json(["exchange", "request", "--from", "alice", "--asset", asset,
                             "--algorithm", "builtin:stats", "--params", big, "--purpose", "long parameters"])
    st, rj = node.get("/v1/txs/" + rq5["tx"]) if rq5 else (None, None)
    t.ok(r.returncode == 0 and st == 200 and rj["payload"]["params"] == json.loads(big),
         "a request with 3 KB of parameters is recorded with them", (r.stderr, str(rj)[:300]))
    r = node.cli(["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm", "builtin:stats",
                  "--params", json.dumps({"note": "x" * 5000}), "--purpose", "too long"])
    t.ok(r.returncode == 2 and "--params is longer than 4096 bytes" in r.stderr,
         "parameters over 4096 bytes: a usage error naming the limit", r.stderr)
    r, rq7 = node.cli_json(["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm-file", escape,
                             "--purpose", "read a file"])
    node.cli(["exchange", "approve", "--from", "clinic", "--request", rq7["tx"]])
    a0, b0 = bal(node, "alice"), bal(node, "bob")
    r, esc7 = node.cli_json(["exchange", "escrow", "--from", "alice", "--request", rq7["tx"], "--executor", "node",
                              "--compute-fee", "1"])
    r = node.cli(["exchange", "run", "--from", "node", "--request", rq7["tx"], "--escrow", esc7["escrow"],
                  "--data", data])
    t.ok(r.returncode == 1 and "--algorithm-file" in r.stderr, "a script request needs the script at the executor", r.stderr)
    r, run7 = node.cli_json(["exchange", "run", "--from", "node", "--request", rq7["tx"], "--escrow", esc7["escrow"],
                              "--data", data, "--algorithm-file", escape])
    t.ok(r.returncode == 0 and run7["status"] == "failed" and "the run failed" in run7["reason"],
         "the script's escape attempt fails the run, with the reason recorded", r.stdout + r.stderr)
    a1, b1 = bal(node, "alice"), bal(node, "bob")
    t.eq((a1[0], a0[1] - a1[1], b1), (a0[0], FEE, b0), "failed run: user refunded (only the escrow fee), author unpaid")
    st, rqj = node.get("/v1/exchange/requests/" + rq7["tx"])
    t.eq(rqj["status"], "failed", "the business chain records the failed run")

    # ---- revocations by the owner --------------------------------------------------------------
    r, rq8 = node.cli_json(["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm",
                             "builtin:stats", "--params", PARAMS, "--purpose", "to be revoked"])
    node.cli(["exchange", "approve", "--from", "clinic", "--request", rq8["tx"]])
    r = node.cli(["exchange", "revoke", "--from", "alice", "--request", rq8["tx"]])
    t.ok(r.returncode == 1 and "wrong owner" in r.stderr, "revoke by the user: refused, wrong owner", r.stderr)
    r = node.cli(["exchange", "revoke", "--from", "clinic", "--request", rq8["tx"]])
    t.ok(r.returncode == 0, "owner revokes the usage right of an approved request", r.stderr)
    r = node.cli(["exchange", "escrow", "--from", "alice", "--request", rq8["tx"], "--executor", "node",
                  "--compute-fee", "1"])
    t.ok(r.returncode == 1 and "no usage right" in r.stderr and "nothing was locked" in r.stderr,
         "escrow for a revoked request: refused, nothing locked", r.stderr)

    # ---- scenarios: chosen by the user, chosen automatically, refused by policy ---------------
    r, rq5 = node.cli_json(["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm",
                             "builtin:stats", "--params", PARAMS, "--purpose", "at a computing provider", "--scenario", "integrated"])
    node.cli(["exchange", "approve", "--from", "clinic", "--request", rq5["tx"]])
    # the owner's own node runs where the data lies (local): it may not record an integrated run
    r = node.cli(["exchange", "escrow", "--from", "alice", "--request", rq5["tx"], "--executor", "node",
                  "--compute-fee", "1"])
    t.ok(r.returncode == 1 and "must run integrated" in r.stderr and "the owner's own node" in r.stderr
         and "would run local" in r.stderr and "nothing was locked" in r.stderr,
         "the user asked for integrated: the owner's own node (local) is refused as executor", r.stderr)
    # a run at the owner's node is recorded as local, with the reason
    r, rq5 = node.cli_json(["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm",
                             "builtin:stats", "--params", PARAMS, "--purpose", "left to the automatic choice"])
    node.cli(["exchange", "approve", "--from", "clinic", "--request", rq5["tx"]])
    r, esc5 = node.cli_json(["exchange", "escrow", "--from", "alice", "--request", rq5["tx"], "--executor", "node",
                              "--compute-fee", "1"])
    r, run5 = node.cli_json(["exchange", "run", "--from", "node", "--request", rq5["tx"], "--escrow",
                              esc5["escrow"], "--data", data])
    t.ok(r.returncode == 0 and run5["scenario"] == "local" and run5["chosen_by"] == "automatic"
         and run5["scenario_reason"] == "executor",
         "automatic choice at the owner's own node: recorded local, reason executor", r.stdout + r.stderr)
    st, ex5 = node.get("/v1/exchange/log/" + rq5["tx"])
    d = [e["details"] for e in ex5["events"] if e["type"] == "xchg.exec"]
    t.ok(d and d[0]["scenario"] == "local" and d[0]["chosen_by"] == "automatic",
         "the execution records the scenario that ran and that it was chosen automatically", ex5)
    st, rv5 = node.get("/v1/exchange/requests/" + rq5["tx"])
    t.ok(st == 200 and rv5.get("scenario") == "local" and rv5.get("scenario_reason") == "executor"
         and "owner's own node" in rv5.get("scenario_why", ""),
         "the request view shows the scenario that ran and why", rv5)
    script2 = os.path.join(tmp, "proprietary.lua")
    with open(script2, "w") as f:
        f.write("return {n = 0}\n")
    node.cli(["exchange", "algo", "--from", "bob", "--algorithm-file", script2, "--fee", "2", "--at-author"])
    r, rq6 = node.cli_json(["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm-file", script2,
                             "--purpose", "runs only at its author"])
    node.cli(["exchange", "approve", "--from", "clinic", "--request", rq6["tx"]])
    st, plan = node.http("POST", "/v1/exchange/check", {"request": rq6["tx"], "executor": execu})[:2]
    t.ok(st == 403 and "must run off-site" in plan["error"]["message"]
         and "runs only at its author" in plan["error"]["message"],
         "automatic choice: an algorithm that runs only at its author may not run at the owner's node", plan)
    node.cli(["exchange", "grant", "--from", "clinic", "--asset", asset, "--executor", "bob", "--kind", "node"])
    st, plan = node.http("POST", "/v1/exchange/check", {"request": rq6["tx"], "executor": bob})[:2]
    t.ok(st == 200 and plan["scenario"] == "off-site" and plan["chosen_by"] == "automatic"
         and plan["scenario_reason"] == "at-author" and plan["terms"]["algo_fee"] == 2 * M,
         "automatic choice: an algorithm that runs only at its author goes off-site, at its author", plan)
    r = node.cli(["exchange", "offer", "--from", "clinic", "--asset-tx", reg2["id"], "--price", "3",
                  "--min-cohort", "10", "--allow", "builtin:stats", "--local-only"])
    t.ok(r.returncode == 0, "the owner updates its offer: local only", r.stderr)
    r = node.cli(["exchange", "request", "--from", "alice", "--asset", off2["asset"], "--algorithm", "builtin:stats",
                  "--purpose", "elsewhere", "--scenario", "off-site"])
    t.ok(r.returncode == 1 and "LB_EDENIED" in r.stderr and "(local)" in r.stderr,
         "off-site run of a local-only asset: refused", r.stderr)

    r = node.cli(["exchange", "revoke", "--from", "clinic", "--asset", asset, "--executor", "node"])
    t.ok(r.returncode == 0, "owner revokes the node's execution right", r.stderr)
    st, j = node.http("POST", "/v1/exchange/check", {"request": rq6["tx"], "executor": execu})[:2]
    t.ok(st == 403 and "no execution right" in j["error"]["message"], "without the right the node may not run", j)
    r = node.cli(["exchange", "revoke", "--from", "clinic", "--asset", asset])
    t.ok(r.returncode == 0, "owner withdraws the offer", r.stderr)
    r = node.cli(["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm", "builtin:stats",
                  "--purpose", "too late"])
    t.ok(r.returncode == 1 and "withdrawn" in r.stderr, "requests on a withdrawn offer are refused", r.stderr)

    # ---- an asset published by the data layer (data.register, with its description) --------
    cohort2 = os.path.join(tmp, "cohort2.csv")
    write_table(cohort2, [("Q%d" % n, 30 + n, 110 + n, 48 + n % 3) for n in range(1, 16)])
    r, pub = node.cli_json(["data", "add", cohort2, "--key", "clinic", "--price", "2"])
    t.ok(r.returncode == 0 and pub and len(pub.get("tx", "")) == 64, "leben data add publishes data.register", r.stderr)
    node.cli(["exchange", "consent", "--from", "patient3", "--asset", asset, "--patient", "P3", "--revoke"])
    r, off3 = node.cli_json(["exchange", "offer", "--from", "clinic", "--asset-tx", pub["tx"], "--price", "2",
                              "--allow", "builtin:stats"])
    t.ok(r.returncode == 0 and off3 and off3["asset"] == pub["asset_id"],
         "offer citing a data.register: the data layer's asset id", r.stdout + r.stderr)
    st, o3 = node.get("/v1/exchange/offers/" + pub["asset_id"])
    t.ok(st == 200 and o3["content_hash"] == blake2b256(open(cohort2, "rb").read()).hex()
         and o3["data_bytes"] == os.path.getsize(cohort2) and o3["owner"] == clinic,
         "its content hash and size come from the registered description", o3)
    r = node.cli(["exchange", "offer", "--from", "bob", "--asset-tx", pub["tx"], "--price", "1"])
    t.ok(r.returncode == 1 and "wrong owner" in r.stderr, "someone else cannot offer the data layer's asset", r.stderr)

    # ---- a co-owned asset: the owner's acts need the co-owners' approval first ------------------
    kes, vks = [], []
    for i in range(2):
        k = os.path.join(tmp, "coowner%d.kes" % i)
        r = run_cli(["kes", "keygen", "--out", k, "--seed", ("%02x" % (0x41 + i)) * 32])
        kes.append(k)
        vks.append(r.stdout.strip())
    pol = os.path.join(tmp, "policy.json")
    r = node.cli(["policy", "new", "--owners", ",".join(vks), "--threshold", "2", "--epoch-blocks", "100000",
                  "--out", pol])
    r2 = node.cli(["policy", "set", "--from", "clinic", "--asset", pub["asset_id"], "--policy", pol])
    t.ok(r.returncode == 0 and r2.returncode == 0, "a 2-of-2 co-owner policy recorded for the asset", r.stderr + r2.stderr)
    grant = ["exchange", "grant", "--from", "clinic", "--asset", pub["asset_id"], "--executor", "bob"]
    r = node.cli(grant)
    t.ok(r.returncode == 1 and "LB_EDENIED" in r.stderr and "co-owned" in r.stderr and "policy approve" in r.stderr,
         "grant on a co-owned asset without the co-owners: refused, says how to approve", r.stderr)
    r = node.cli(grant + ["--print-act"])
    act = r.stdout.strip()
    t.ok(r.returncode == 0 and act.startswith("xchg.grant ") and len(act) == 11 + 64, "--print-act prints the act", act)
    sigs = []
    for k in kes:
        r = node.cli(["policy", "sign", "--key", k, "--policy", pol, "--asset", pub["asset_id"], "--act", act])
        sigs.append(r.stdout.strip())
    r = node.cli(["policy", "approve", "--from", "clinic", "--asset", pub["asset_id"], "--act", act,
                  "--approvals", sigs[0]])
    t.ok(r.returncode == 1, "one co-owner alone cannot approve", r.stderr)
    r = node.cli(grant)
    t.ok(r.returncode == 1 and "co-owned" in r.stderr, "still refused without the approval", r.stderr)
    r = node.cli(["policy", "approve", "--from", "clinic", "--asset", pub["asset_id"], "--act", act,
                  "--approvals", ",".join(sigs)])
    t.ok(r.returncode == 0, "both co-owners approve the act", r.stderr)
    r = node.cli(grant)
    t.ok(r.returncode == 0, "the approved grant applies", r.stderr)
    r = node.cli(["exchange", "grant", "--from", "clinic", "--asset", pub["asset_id"], "--executor", "alice"])
    t.ok(r.returncode == 1 and "co-owned" in r.stderr, "another act needs its own approval", r.stderr)

    node.stop()
    r = run_cli(["verify", "--home", node.home])
    t.ok(r.returncode == 0, "leben verify replays the whole history (cross-chain proofs included)", r.stdout + r.stderr)


if __name__ == "__main__":
    main()
