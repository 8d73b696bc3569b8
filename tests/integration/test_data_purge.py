#!/usr/bin/python3
"""Verifiable purge through a real node (docs/security.md "Purge").

Attacks first, after purge: `data get` of the asset, opening the vault object with the vault
(node) key from a copy of the ciphertext taken before the purge, an exchange run (the node's
check), reading the private part, finding the asset by search (node index and local
catalogue): all refused or empty, with the message naming the date and at whose request.
Then the flow: a patients' purge publishes the table without their rows as the next version
(checked against python's csv), destroys the earlier version, and the node's worker answers
with a receipt naming the destroyed object; the patient's view lists it; a whole-asset purge
shreds every version, the directory entry shows "purged" with the date; a holder that does not
answer is reported late after the deadline; bad requests are refused with nothing changed;
`leben verify` still passes."""

import csv
import hashlib
import io
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import patient_commitment, run_cli, run_node, wait_for  # noqa: E402


def status(node, asset, wait=20):
    r = node.cli(["data", "purge-status", asset, "--wait", str(wait), "--json"])
    try:
        return r, json.loads(r.stdout)
    except ValueError:
        return r, None


def table(rows):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["patient_id", "age", "systolic"])
    w.writerows(rows)
    return out.getvalue()


def main():
    run_node(run, tmp="leben-purge-")


def run(t, node, tmp):
    rows = [["P%d" % n, str(40 + n), str(120 + 2 * n)] for n in range(1, 9)]
    path = os.path.join(tmp, "cohort.csv")
    with open(path, "w") as f:
        f.write(table(rows))
    r, add = node.cli_json(["data", "add", path, "--private", "basic.description",
                            "--description", "ward-7 cohort"])
    if not t.ok(r.returncode == 0 and add, "the table is published", r.stderr):
        return
    asset, ref1 = add["asset_id"], add["vault"]
    vdir = os.path.join(node.home, "vault")
    obj1 = os.path.join(vdir, ref1[:2], ref1 + ".lbo")
    t.ok(os.path.exists(obj1) and os.path.getsize(os.path.join(vdir, "keys.tbl")) % 128 == 0,
         "the vault object and its key record exist")
    # the patients are named by commitments made with the asset's salt key
    r = node.cli(["exchange", "offer", "--from", "node", "--asset-tx", add["tx"], "--price", "1",
                  "--data", path, "--opt-out", "--legal-basis", "registry law art. 7",
                  "--min-cohort", "5"])
    t.ok(r.returncode == 0, "the asset is offered for exchange (opt-out)", r.stderr)
    r = node.cli(["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm",
                  "builtin:stats", "--params", '{"columns":["age"]}', "--purpose", "x", "--json"])
    xreq = json.loads(r.stdout)["tx"] if r.returncode == 0 else "00" * 32
    r2 = node.cli(["exchange", "approve", "--from", "node", "--request", xreq])
    t.ok(r.returncode == 0 and r2.returncode == 0, "alice's request on the asset is approved",
         r.stderr + r2.stderr)

    # ---- bad requests: refused, nothing changed ------------------------------------------------
    h0 = node.get("/v1/status")[1]["chains"]["directory"]["height"]
    for args, what in ((["--deadline", "0"], "a deadline of 0 blocks"),
                       (["--holders", "lb1nope"], "a holder that is not an address"),
                       (["--patient", "P99"], "a patient with no record in the table")):
        r = node.cli(["data", "purge", asset] + args)
        t.ok(r.returncode in (1, 2) and r.stderr.strip(), "purge with %s is refused" % what,
             r.stderr)
    r = node.cli(["data", "purge", "ab" * 32])
    t.ok(r.returncode == 1 and "not registered" in r.stderr,
         "purge of an unknown asset: the chain refuses it", r.stderr)
    r = node.cli(["data", "purge", asset, "--key", "alice"])
    t.ok(r.returncode == 1 and "only its owner" in r.stderr,
         "purge by a key that does not own the asset: refused", r.stderr)
    t.ok(os.path.exists(obj1), "... and the vault object is still there")
    st, j = node.get("/v1/data/purges/" + asset)
    t.ok(st == 404, "no purge recorded for the asset yet: 404", j)

    # ---- a patients' purge: P3's rows leave every version -------------------------------------
    r, pp = node.cli_json(["data", "purge", asset, "--patient", "P3", "--at-patient-request",
                           "--reason", "the patient withdrew"])
    if not t.ok(r.returncode == 0 and pp and pp["records_removed"] == 1,
                "a patients' purge removes P3's record", r.stdout + r.stderr):
        return
    t.ok(not os.path.exists(obj1), "the version holding P3's record is gone from the vault")
    with open(os.path.join(node.home, "exchange", "salts", asset + ".key"), "rb") as f:
        skey = f.read()
    p3 = patient_commitment(skey, asset, "P3")
    entry = json.load(open(os.path.join(node.home, "data", "assets.json")))["assets"][asset]
    t.eq(entry["version"], 2, "the table without P3 is the asset's version 2")
    out = os.path.join(tmp, "v2.csv")
    r = node.cli(["data", "get", asset, "--out", out])
    got = list(csv.reader(open(out))) if r.returncode == 0 else []
    t.eq(got, [["patient_id", "age", "systolic"]] + [x for x in rows if x[0] != "P3"],
         "data get returns the table without P3's record (python's csv)")
    t.ok(entry["file"] == os.path.realpath(path), "the home still names the owner's file",
         entry)
    r, s = status(node, asset)
    req = s["requests"][0] if s else {}
    t.ok(r.returncode == 0 and req.get("complete") and req["by"] == "patient" and
         req["patients"] == [p3], "the request is complete: the node answered, at the "
         "patient's request, naming P3's commitment", r.stdout + r.stderr)
    rc = json.loads(json.dumps(req.get("holders", [{}])[0]))
    t.ok(rc.get("status") == "answered" and rc.get("objects", 0) >= 1,
         "the owner's receipt names the destroyed object", rc)
    st, pv = node.get("/v1/patients/%s/purges" % p3)
    t.ok(st == 200 and len(pv["purges"]) == 1 and pv["purges"][0]["asset_id"] == asset
         and pv["purges"][0]["complete"], "the patient's view lists the purge of its records", pv)
    rtx = [x for blk in range(1, node.get("/v1/status")[1]["chains"]["directory"]["height"] + 1)
           for x in node.get("/v1/chains/directory/blocks/%d" % blk)[1]["txs"]
           if x["type"] == "data.purge.receipt"]
    t.ok(rtx and ref1 in rtx[0]["payload"]["objects"],
         "the receipt on the chain names the old version's object hash", rtx)
    execu = node.address("node")
    st, j = node.http("POST", "/v1/exchange/check",
                      {"request": xreq, "executor": execu, "patients": [p3]})[:2]
    t.ok(st == 403 and p3 in j["error"]["message"] and "purged" in j["error"]["message"],
         "a check naming the purged patient is refused, naming it", j)
    st, j = node.http("POST", "/v1/exchange/check",
                      {"request": xreq, "executor": execu, "patients": [p3],
                       "exclude_revoked": True})[:2]
    t.ok(st == 200 and j.get("purged") == [p3] and p3 in j.get("excluded", []),
         "a run's check leaves the purged patient out", j)
    node.cli(["tx", "transfer", "--from", "clinic", "--to", "node", "--asset", "csc",
              "--amount", "10", "--wait"])  # the executor pays its release fee
    # a run over the owner's old file (which still holds P3) leaves P3's row out
    r, esc = node.cli_json(["exchange", "escrow", "--from", "alice", "--request", xreq,
                            "--executor", "node", "--compute-fee", "1"])
    r2, run = node.cli_json(["exchange", "run", "--from", "node", "--request", xreq, "--escrow",
                             (esc or {}).get("escrow", "00" * 32), "--data", path])
    t.ok(r2.returncode == 0 and run and run["patients_used"] == 7 and
         run["sandbox"]["rows_left_out"] == 1,
         "a later run over the old file: 7 patients used, P3's row left out in the sandbox",
         r.stderr + r2.stdout + r2.stderr)
    r = node.cli(["exchange", "result", "--from", "alice", "--request", xreq, "--out",
                  os.path.join(tmp, "res.json")])
    res = json.load(open(os.path.join(tmp, "res.json"))) if r.returncode == 0 else {}
    if not res:
        print("# result: " + r.stdout + r.stderr)
    ages = [int(x[1]) for x in rows if x[0] != "P3"]
    t.ok(res.get("n") == 7 and abs(res["columns"][0]["mean"] - sum(ages) / 7) < 1e-9,
         "the result is python's mean age without P3", res)

    # ---- a patient asks with its own consent key ------------------------------------------------
    r = run_cli(["keys", "new", "patient5", "--home", node.home])
    kf = os.path.join(tmp, "keys.csv")
    with open(kf, "w") as f:
        f.write("local_id,address\nP5,%s\n" % node.address("patient5"))
    r2 = node.cli(["exchange", "patients", "--from", "node", "--asset", asset, "--data", path,
                   "--keys", kf, "--out", os.path.join(tmp, "cards")])
    t.ok(r.returncode == 0 and r2.returncode == 0, "P5's consent key is registered",
         r.stderr + r2.stderr)
    p5 = patient_commitment(skey, asset, "P5")
    r = node.cli(["data", "purge-ask", asset, "--patient", p5, "--key", "alice"])
    t.ok(r.returncode == 1 and "only the patient's registered consent key" in r.stderr,
         "another key cannot ask for P5's purge", r.stderr)
    cards = os.path.join(tmp, "cards")
    card = [os.path.join(cards, f) for f in os.listdir(cards)][0] if os.path.isdir(cards) else ""
    bad = os.path.join(tmp, "bad-card.json")
    if card:
        c = json.load(open(card))
        c["local_id"] = "P6"  # the commitment no longer opens
        json.dump(c, open(bad, "w"))
    r = node.cli(["data", "purge-ask", asset, "--opening", bad, "--key", "patient5"])
    t.ok(r.returncode == 1 and "not an opening card" in r.stderr,
         "a card whose commitment does not open is refused", r.stderr)
    r = node.cli(["data", "purge-ask", asset, "--opening", card, "--key", "patient5", "--reason",
                  "I withdraw"])
    t.ok(r.returncode == 0 and p5 in r.stdout, "P5 asks with its opening card and consent key",
         r.stdout + r.stderr)
    st, pv = node.get("/v1/patients/%s/purges" % p5)
    t.ok(st == 200 and pv["asks"] and pv["asks"][0]["status"] == "waiting" and
         pv["asks"][0]["asset_id"] == asset, "P5's view: its ask is waiting", pv)
    r, pa = node.cli_json(["data", "purge", asset, "--asks"])
    t.ok(r.returncode == 0 and pa and pa["records_removed"] == 1,
         "the owner answers the asks: P5's record removed", r.stdout + r.stderr)
    r = node.cli(["data", "purge", asset, "--asks"])
    t.ok(r.returncode == 1 and "no patient's ask is waiting" in r.stderr,
         "no ask left to answer", r.stderr)
    r, s = status(node, asset)
    last = s["requests"][-1] if s else {}
    t.ok(last.get("by") == "patient" and last.get("patients") == [p5] and last.get("complete"),
         "the patients' purge is at the patient's request, complete", last)
    st, pv = node.get("/v1/patients/%s/purges" % p5)
    t.ok(st == 200 and pv["asks"][0]["status"] == "purged" and
         pv["asks"][0]["request"] == last.get("request") and len(pv["purges"]) == 1,
         "P5's view: its ask was answered by that purge", pv)
    r = node.cli(["data", "get", asset, "--out", os.path.join(tmp, "v3.csv")])
    got = list(csv.reader(open(os.path.join(tmp, "v3.csv")))) if r.returncode == 0 else []
    t.eq([x[0] for x in got[1:]], [x[0] for x in rows if x[0] not in ("P3", "P5")],
         "the current version holds neither P3 nor P5")

    # ---- the whole asset ----------------------------------------------------------------------
    entry = json.load(open(os.path.join(node.home, "data", "assets.json")))["assets"][asset]
    ref2 = entry["vault"]
    obj2 = os.path.join(vdir, ref2[:2], ref2 + ".lbo")
    stolen = open(obj2, "rb").read()  # the attacker's copy of the ciphertext
    table_before = open(os.path.join(vdir, "keys.tbl"), "rb").read()
    study = os.path.join(node.home, "exchange", "assets", asset + ".csv")
    os.makedirs(os.path.dirname(study), exist_ok=True)
    shutil.copy(path, study)  # the table the owner placed for studies across nodes
    r, pw = node.cli_json(["data", "purge", asset, "--reason", "registry closed"])
    t.ok(r.returncode == 0 and pw and pw["scope"] == "asset", "the owner purges the whole asset",
         r.stdout + r.stderr)
    r, s = status(node, asset)
    t.ok(r.returncode == 0 and s and s["purged"] and all(q["complete"] for q in s["requests"]),
         "every purge of the asset is complete", r.stdout + r.stderr)

    t.ok(not os.path.exists(study), "the table placed for studies is gone too")
    rtx = [x for blk in range(1, node.get("/v1/status")[1]["chains"]["directory"]["height"] + 1)
           for x in node.get("/v1/chains/directory/blocks/%d" % blk)[1]["txs"]
           if x["type"] == "data.purge.receipt" and x["payload"]["request"] == pw["request"]]
    want = {ref2, hashlib.blake2b(open(path, "rb").read(), digest_size=32).hexdigest()}
    t.ok(rtx and set(rtx[0]["payload"]["objects"]) == want,
         "the receipt names the vault object and the study table", rtx)

    # ---- attacks after the purge --------------------------------------------------------------
    r = node.cli(["data", "get", asset, "--out", os.path.join(tmp, "x.csv")])
    t.ok(r.returncode == 1 and "was purged on" in r.stderr and "owner's request" in r.stderr
         and not os.path.exists(os.path.join(tmp, "x.csv")),
         "data get: refused, naming the date and the owner's request", r.stderr)
    # the stolen ciphertext put back: the vault key opens nothing (its object key is erased)
    os.makedirs(os.path.dirname(obj2), exist_ok=True)
    with open(obj2, "wb") as f:
        f.write(stolen)
    r = node.cli(["data", "get", ref2, "--out", os.path.join(tmp, "y.csv")])
    t.ok(r.returncode == 1 and not os.path.exists(os.path.join(tmp, "y.csv")),
         "data get of the vault reference with the stolen ciphertext back: nothing", r.stderr)
    table_after = open(os.path.join(vdir, "keys.tbl"), "rb").read()
    recs = [table_after[i:i + 128] for i in range(0, len(table_after), 128)]
    mine = [x for x in recs if x[4:36] == bytes.fromhex(ref2)]
    t.ok(len(table_after) == len(table_before) and mine and
         all(x[:4] == b"LBKX" and x[36:] == bytes(92) for x in mine),
         "the key table keeps the object's record erased in place (marked, zeroed)")
    t.ok(bytes.fromhex(ref2) not in b"".join(x[36:] for x in recs) and
         table_before != table_after, "the sealed object key is no longer in the key table")
    os.remove(obj2)
    st, j = node.http("POST", "/v1/exchange/check",
                      {"request": xreq, "executor": node.address("node"), "patients": []})[:2]
    t.ok(st == 403 and "was purged on" in j["error"]["message"],
         "an exchange run on the purged asset is refused by the node's check", j)
    r = node.cli(["exchange", "run", "--from", "node", "--request", xreq, "--escrow", "00" * 32,
                  "--data", path])
    t.ok(r.returncode != 0, "exchange run on the purged asset fails", r.stderr)
    r = node.cli(["data", "show", asset, "--private"])
    t.ok(r.returncode == 1 and "was purged on" in r.stderr and "ward-7" not in r.stdout,
         "the private part is no longer served", r.stderr)
    r = node.cli(["data", "search", "cohort", "--directory", "--json"])
    t.ok(r.returncode == 0 and asset not in r.stdout, "the node's directory search does not "
         "find it", r.stdout + r.stderr)
    r = node.cli(["data", "search", "cohort", "--json"])
    t.ok(asset not in r.stdout, "the local catalogue does not find it", r.stdout)
    r, sh = node.cli_json(["data", "show", asset])
    t.ok(r.returncode == 0 and sh and sh["status"] == "purged" and sh["purged_at"] > 0,
         "the directory entry shows purged with its date", r.stdout + r.stderr)
    r = node.cli(["data", "show", asset])
    t.ok("purged on 20" in r.stdout and "owner's request" in r.stdout,
         "data show says purged, when and at whose request", r.stdout)
    r = node.cli(["data", "purge", asset])
    t.ok(r.returncode == 1 and "already" in r.stderr or "nothing more" in r.stderr,
         "a second purge: nothing more to do", r.stderr)
    leftovers = [f for f in os.listdir(os.path.join(node.home, "data", "purge"))] \
        if os.path.isdir(os.path.join(node.home, "data", "purge")) else []
    t.eq(leftovers, [], "no private copy of the new version is left behind")

    # ---- a holder that never answers is late --------------------------------------------------
    path2 = os.path.join(tmp, "other.csv")
    with open(path2, "w") as f:
        f.write(table([["Q1", "50", "130"], ["Q2", "51", "131"]]))
    r, add2 = node.cli_json(["data", "add", path2])
    t.ok(r.returncode == 0, "a second table", r.stderr)
    absent = node.address("bob")
    r = node.cli(["data", "purge", add2["asset_id"], "--holders", absent, "--deadline", "1"])
    t.ok(r.returncode == 0, "purge naming a holder that never answers", r.stderr)
    for n in range(2):  # directory blocks go by
        note = os.path.join(tmp, "note%d.csv" % n)
        with open(note, "w") as f:
            f.write(table([["R%d" % n, str(60 + n), "140"], ["S%d" % n, "61", "141"]]))
        node.cli(["data", "add", note])
    r, s = status(node, add2["asset_id"], wait=0)
    hs = {h["holder"]: h["status"] for h in s["requests"][0]["holders"]} if s else {}
    t.ok(r.returncode == 3 and hs.get(absent) == "late" and
         hs.get(node.address("node")) == "answered",
         "purge-status: the silent holder is late (exit 3), the owner answered", r.stdout)
    r = node.cli(["data", "purge-status", add2["asset_id"]])
    t.ok("LATE" in r.stdout, "the text output says LATE", r.stdout)

    # ---- the worker's cursor: a restart resumes after the requests it is done with ------------
    cursor = os.path.join(node.home, "data", "purge.cursor")
    r, s1 = status(node, asset, wait=0)
    n_req = len(s1["requests"]) + len(s["requests"]) if s1 and s else -1

    def cursor_at(n):  # the worker moves it on the pass after it sees its receipt committed
        return wait_for(lambda: open(cursor).read() == "%d\n" % n, 15)

    t.ok(cursor_at(n_req), "the worker keeps its cursor past the %d requests it answered" % n_req,
         open(cursor).read() if os.path.exists(cursor) else None)

    def purge_after_restart(name, what):
        node.stop()
        node.start()
        p3 = os.path.join(tmp, name + ".csv")
        with open(p3, "w") as f:
            f.write(table([["T1", "70", "150"], ["T2", "71", "151"]]))
        r, a3 = node.cli_json(["data", "add", p3])
        r2 = node.cli(["data", "purge", a3["asset_id"]]) if a3 else r
        r3, s3 = status(node, a3["asset_id"], wait=30) if a3 else (r, None)
        hs3 = {h["holder"]: h["status"] for h in s3["requests"][0]["holders"]} if s3 else {}
        t.ok(r2.returncode == 0 and hs3.get(node.address("node")) == "answered", what,
             r2.stderr + r3.stdout)

    purge_after_restart("third", "after a restart (cursor kept) a new purge is answered")
    t.ok(cursor_at(n_req + 1), "the cursor moved past it", open(cursor).read())
    with open(cursor, "w") as f:
        f.write("999\n")  # a cursor of another history: read again from the first
    purge_after_restart("fourth", "with a cursor past every request the worker starts over and "
                                  "answers")
    t.ok(cursor_at(n_req + 2), "the cursor is back within the history", open(cursor).read())

    r = run_cli(["verify", "--home", node.home])
    t.ok(r.returncode == 0, "leben verify: the chains still replay", r.stdout + r.stderr)


if __name__ == "__main__":
    main()
