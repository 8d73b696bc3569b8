#!/usr/bin/env python3
"""The economy through a real node and the `leben market` CLI (docs/economy.md): bad input first
(each refused with its error, nothing changed), then a period: a credit partner issues ASC and
funds the developers' and data nodes' quota pools, a clinic pays a contract call (authors,
executor) and a data run over a hospital's data with the hospital's patient pool, the splits
land in every balance, the period is closed and the ranking pays the top nodes from the pools,
the partner redeems ASC. Every figure is computed here independently (the genesis tables,
integer arithmetic) and compared with the node's balances, `leben market status/rankings` and
the API; `leben verify` then replays the chains (rankings included)."""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Node, Tap, address_of, run_cli  # noqa: E402

M = 1000000
PERIOD = 4  # a period holds the close of the one before and both uses, with room to spare
# the default split tables (docs/economy.md), ppm per role
TABLES = {
    "data-run": {"owner": 500000, "patients": 200000, "algorithm-author": 100000,
                 "executor": 100000, "audit": 30000, "platform": 70000},
    "contract-call": {"authors": 600000, "ancestors": 150000, "executor": 100000,
                      "audit": 50000, "platform": 100000},
}


def split(use, amount, parties):
    """Independent split: each filled role floor(amount x ppm / 10^6), divided equally among
    its parties (remainder to the platform); unfilled roles and remainders to the platform."""
    out, paid = {}, 0
    for role, ppm in TABLES[use].items():
        if role == "platform":
            continue
        share = amount * ppm // M
        who = parties.get(role, [])
        if not who:
            continue
        each = share // len(who)
        for a in who:
            out[a] = out.get(a, 0) + each
            paid += each
    out[parties["platform"]] = out.get(parties["platform"], 0) + amount - paid
    return out


def blake2b_pool(owner_bytes):
    from lebentest import blake2b256, bech32m_encode
    return bech32m_encode("lb", blake2b256(owner_bytes, "LEBEN-patient-pool-v1")[:20])


def main():
    t = Tap()
    node = Node(demo=True)
    try:
        platform = address_of(b"\x11" * 32)
        gpath = os.path.join(node.home, "genesis.json")
        with open(gpath) as f:
            g = json.load(f)
        g["market"] = {"platform": platform, "period_blocks": PERIOD, "top_k": 2,
                       "quota": {"csc_per_asc": 10, "periods": 2}}
        with open(gpath, "w") as f:
            json.dump(g, f, indent=1)
        node.start()
        A = {n: node.address(n) for n in ("alice", "bob", "clinic", "bank")}
        from lebentest import addr_bytes
        pool = blake2b_pool(addr_bytes(A["clinic"]))

        def bal(who):
            b = node.account(who).get("balances") or {}
            return b.get("asc", 0), b.get("csc", 0)

        def status():
            r, j = node.cli_json(["market", "status"])
            assert r.returncode == 0, r.stderr
            return j

        def tx(args):
            r = node.cli(["market"] + args + ["--wait"])
            return r

        # -- bad input: each refused with its error, nothing changed ------------------------
        before = (status(), [bal(a) for a in A.values()])
        r = tx(["fund", "--from", "alice", "--pool", "developers", "--amount", "10"])
        t.ok(r.returncode != 0 and "not a credit partner" in r.stderr + r.stdout,
             "fund by a non-partner refused", r.stderr)
        r = tx(["fund", "--from", "bank", "--pool", "developers", "--amount", "10"])
        t.ok(r.returncode != 0 and "cannot fund the developers pool" in r.stderr + r.stdout,
             "fund without balance refused", r.stderr)
        r = tx(["redeem", "--from", "bank", "--amount", "5"])
        t.ok(r.returncode != 0 and "cannot redeem 5.000000 ASC" in r.stderr + r.stdout,
             "redemption beyond balance refused", r.stderr)
        r = tx(["pay", "--from", "bob", "--use", "contract-call", "--amount", "1000",
                "--authors", "alice"])
        t.ok(r.returncode != 0 and "cannot pay the contract-call" in r.stderr + r.stdout,
             "payment beyond balance refused", r.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"contract-call": {"authors": 600000, "platform": 300000}}, f)
            bad_tables = f.name
        r = tx(["propose", "--from", "bank", "--splits-file", bad_tables])
        t.ok(r.returncode != 0 and "adds up to 900000 ppm" in r.stderr, "split table that does "
             "not add up refused", r.stderr)
        os.unlink(bad_tables)
        r = tx(["close", "--from", "alice", "--period", "4"])  # the node closes 0 itself
        t.ok(r.returncode != 0 and "the next period to close is 0" in r.stderr + r.stdout,
             "closing a later period refused", r.stderr)
        after = (status(), [bal(a) for a in A.values()])
        # fees of refused txs are never charged: only admitted txs pay
        t.eq(json.dumps(after, sort_keys=True), json.dumps(before, sort_keys=True),
             "refusals changed nothing")

        # -- the period ------------------------------------------------------------------------
        r = node.cli(["tx", "issue", "--from", "bank", "--to", "bank", "--amount", "500", "--wait"])
        t.ok(r.returncode == 0, "the partner issues 500 ASC", r.stderr)
        for p, amt in (("developers", 100), ("data", 50)):
            r = tx(["fund", "--from", "bank", "--pool", p, "--amount", str(amt)])
            t.ok(r.returncode == 0, "bank funds the %s pool with %d ASC" % (p, amt), r.stderr)
        st = status()
        t.eq(st["pools"]["developers"]["csc_pending"], 100 * 10 * M, "developers: 1000 CSC to allot")
        t.eq(st["pools"]["developers"]["csc_per_period"], 500 * M, "developers: 500 CSC per period")

        def height():
            return node.get("/v1/status")[1]["chains"]["settlement"]["height"]

        def tick():
            node.cli(["tx", "transfer", "--from", "alice", "--to", "bob", "--amount",
                      "0.000001", "--wait"])

        # both uses in one period: start right after a period's last block, once the node
        # has closed the period that block ended (a use counts in the open period: the first
        # one not closed yet, whatever its block's height)
        while height() % PERIOD:
            tick()
        for _ in range(100):
            if status()["next_period"] == height() // PERIOD:
                break
            time.sleep(0.1)
        open_period = status()["next_period"]
        b0 = {a: bal(A[a]) for a in A}
        p0, pl0 = bal(pool), bal(platform)
        # a contract call: authors bob and alice, executor clinic, paid by clinic
        r = tx(["pay", "--from", "clinic", "--use", "contract-call", "--amount", "10.000001",
                "--authors", "bob,alice", "--executor", "clinic"])
        t.ok(r.returncode == 0, "the clinic pays a contract call", r.stderr)
        # a data run over the clinic's data (owner), executor bob, with the patient pool
        r = tx(["pay", "--from", "alice", "--use", "data-run", "--amount", "7", "--owner",
                "clinic", "--executor", "bob", "--patient-pool"])
        t.ok(r.returncode == 0, "alice pays a data run with the owner's patient pool", r.stderr)
        want = {}
        for use, amount, parties in (
                ("contract-call", 10000001, {"authors": [A["bob"], A["alice"]],
                                             "executor": [A["clinic"]], "platform": platform}),
                ("data-run", 7 * M, {"owner": [A["clinic"]], "patients": [pool],
                                     "executor": [A["bob"]], "platform": platform})):
            for a, v in split(use, amount, parties).items():
                want[a] = want.get(a, 0) + v
        fee = 1000
        got_alice = b0["alice"][0] - bal(A["alice"])[0]
        t.eq(b0["alice"][0] + want[A["alice"]] - 7 * M, bal(A["alice"])[0], "alice's ASC")
        t.eq(bal(A["bob"])[0] - b0["bob"][0], want[A["bob"]], "bob's ASC (author, executor)")
        t.eq(bal(A["clinic"])[0] - b0["clinic"][0], want[A["clinic"]] - 10000001,
             "clinic's ASC (owner, executor, payer)")
        t.eq(bal(pool)[0] - p0[0], want[pool], "the clinic's patient pool's ASC")
        t.eq(bal(platform)[0] - pl0[0], want[platform], "the platform pool's ASC")
        t.eq(b0["alice"][1] - bal(A["alice"])[1], fee, "alice paid one fee in CSC")
        del got_alice

        # -- the period ends: the node closes it by itself (market.period from its key) ----
        use_period = open_period
        t.eq(use_period, (height() - 1) // PERIOD, "the uses' blocks are in the open period")
        bob_csc = bal(A["bob"])[1]
        for _ in range(60):
            if status()["next_period"] > use_period:
                break
            tick()  # blocks, so that the period ends
        t.ok(status()["next_period"] > use_period, "the node closed the period with the uses",
             "use period %d, next %d" % (use_period, status()["next_period"]))
        allot = {"developers": 0, "data": 0}
        for p in range(use_period + 1):
            rp = node.get("/v1/market/rankings/%d" % p)[1]
            for kind in allot:
                allot[kind] += rp[kind]["allotted_csc"]
                if p < use_period:
                    t.eq(rp[kind]["top"], [], "period %d: no %s node active" % (p, kind))
        t.eq(allot["developers"], 1000 * M, "developers pool allotted its 1000 CSC (2 periods)")
        t.eq(allot["data"], 500 * M, "data pool allotted its 500 CSC")
        r, rk = node.cli_json(["market", "rankings", str(use_period)])
        t.ok(r.returncode == 0 and rk, "rankings of the period", r.stderr)
        st2, api = node.get("/v1/market/rankings/%d" % use_period)
        t.eq(api, rk, "CLI and API rankings agree")
        # developers: bob and alice with equal volume (3000000 each) and one call each
        dev = rk["developers"]["top"]
        t.eq(len(dev), 2, "two developers ranked")
        t.eq(sorted(d["node"] for d in dev), sorted([A["bob"], A["alice"]]), "bob and alice")
        t.eq([d["score"] for d in dev], [3000000 + M, 3000000 + M], "scores = volume + calls x 1 ASC")
        # nothing was paid before: all the allotted CSC is paid now, in proportion to equal
        # scores
        t.eq(sum(d["paid_csc"] for d in dev), allot["developers"], "the developers pool paid out")
        t.eq(dev[0]["paid_csc"], allot["developers"] // 2, "each developer half")
        t.eq(bal(A["bob"])[1] - bob_csc, allot["developers"] // 2, "bob's CSC grew by his payout")
        data = rk["data"]["top"]
        t.eq([d["node"] for d in data], [A["clinic"]], "the data node ranked: the clinic")
        t.eq(data[0]["paid_csc"], allot["data"], "data pool paid out to the clinic")

        # -- the clinic pays its patients from their pool (here: one consent account) --------
        owed = bal(pool)[0]
        r = tx(["pool-pay", "--from", "bob", "--to", "alice", "--amounts", "0.000001"])
        t.ok(r.returncode != 0 and "cannot pay the patients of" in r.stderr,
             "only the owner's own pool pays (bob's is empty)", r.stderr)
        a_before = bal(A["alice"])[0]
        r = tx(["pool-pay", "--from", "clinic", "--to", "alice", "--amounts",
                "%d.%06d" % (owed // M, owed % M)])
        t.ok(r.returncode == 0, "the clinic pays the patients' share out of the pool", r.stderr)
        t.eq(bal(A["alice"])[0] - a_before, owed, "the patient's account received it")
        t.eq(bal(pool)[0], 0, "the pool is empty")

        # -- redemption -----------------------------------------------------------------------
        s0 = status()["totals"]
        r = tx(["redeem", "--from", "bank", "--amount", "100"])
        t.ok(r.returncode == 0, "bank redeems 100 ASC", r.stderr)
        s1 = status()["totals"]
        t.eq(s0["asc_supply"] - s1["asc_supply"], 100 * M, "ASC supply down by 100")
        t.eq(s1["asc_redeemed"] - s0["asc_redeemed"], 100 * M, "recorded as redeemed")
        t.eq(s1["asc_supply"], 6100 * M + 500 * M - s1["asc_redeemed"],
             "total ASC = issued - redeemed")

        # -- market.cite from the CLI: a contract's store.list for the creation bonus --------
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        r, j = node.cli_json(["contract", "publish",
                              os.path.join(root, "examples/contracts/hypertension.pf"),
                              "--key", "alice"])
        t.ok(r.returncode == 0, "alice publishes a contract", r.stderr)
        r, j = node.cli_json(["store", "add", j["contract"], "--from", "alice", "--title", "Hyp",
                              "--specialty", "cardiology", "--price-call", "1", "--codes",
                              "icd10|I10", "--description", "d"])
        t.ok(r.returncode == 0, "alice lists it in the store", r.stderr)
        listed = j["id"]
        # the node cites the listing by itself (market.cite from its key) once a settlement
        # block anchors the listing's business block; nobody sends anything
        def cited(txid):
            for _ in range(60):
                if node.get("/v1/market/cited/" + txid)[0] == 200:
                    return True
                tick()
            return False
        st, j = node.get("/v1/market/cited/" + "00" * 32)
        t.ok(st == 404 and "was not counted" in json.dumps(j), "GET /v1/market/cited: an "
             "uncounted record is 404", j)
        t.ok(cited(listed), "the node cited the listing for the creation bonus by itself")
        # the party's path stays as a fallback: here the record is counted already
        r = tx(["cite", "--kind", "creation", "--tx", listed, "--from", "bob"])
        t.ok(r.returncode != 0 and "was already counted" in r.stderr,
             "a party's citation of the same listing refused (counted once)", r.stderr)
        r = tx(["cite", "--kind", "rating", "--tx", listed, "--from", "bob"])
        t.ok(r.returncode == 2 and "--listing" in r.stderr, "a rating without --listing refused",
             r.stderr)

        # -- data scale from the directory chain: a data.register's record count ----------------
        csv = os.path.join(node.home, "scale.csv")
        with open(csv, "w") as f:
            f.write("patient_id,age\n" + "".join("S%d,%d\n" % (i, 40 + i) for i in range(7)))
        r, reg = node.cli_json(["data", "add", csv, "--key", "alice", "--name", "scale"])
        t.ok(r.returncode == 0 and reg, "alice registers a 7-record table (data.register)",
             r.stderr)
        r = tx(["cite", "--kind", "data", "--tx", listed, "--from", "bob"])
        t.ok(r.returncode != 0 and "not a directory-chain one" in r.stderr + r.stdout,
             "a store.list cited as a data registration refused", r.stderr)
        p_before = status()["next_period"]
        t.ok(cited(reg["tx"]), "the node cited the data registration by itself")
        p_after = status()["next_period"]
        r = tx(["cite", "--kind", "data", "--tx", reg["tx"], "--from", "clinic"])
        t.ok(r.returncode != 0 and "was already counted" in r.stderr,
             "a registration counts once", r.stderr)
        for _ in range(60):
            if status()["next_period"] > p_after:
                break
            tick()
        score = 0
        for p in range(p_before, p_after + 1):
            rp = node.get("/v1/market/rankings/%d" % p)[1]
            score += {d["node"]: d["score"] for d in rp["data"]["top"]}.get(A["alice"], 0)
        # the data pool's score: volume + calls x 1 ASC + scale x 1 (genesis default weights);
        # alice had no paid use in this period, so her score is the 7 records alone
        t.eq(score, 7, "alice ranks among data nodes by her data scale (7)")

        node.stop()
        r = run_cli(["verify", "--home", node.home])
        t.ok(r.returncode == 0 and "market periods, recomputed from their counters, match"
             in r.stdout, "leben verify replays the chains and recomputes the rankings",
             r.stdout + r.stderr)
    finally:
        node.cleanup()
    t.done()


if __name__ == "__main__":
    main()
