#!/usr/bin/env python3
"""The worked example examples/market-demo.sh runs to the end against the node it starts in its
own demo home; then a node is started again on that home and every figure of the period is read
from the node's API and the CLI's --json output (never from what the script prints) and compared
with numbers computed here: the split tables, bonuses, weights and quota read from the node
(genesis defaults), the integer ppm arithmetic with remainders to the platform
(docs/economy.md §2), the pools' allotments and the rankings' payouts in proportion to the
scores (floor, rounding kept in the pool, §4-5). `leben verify` replays the chains at the end."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import (BIN, ROOT, Node, Tap, addr_bytes, bech32m_encode,  # noqa: E402
                       blake2b256, env, run_cli)

M = 1000000


def split(table, amount, parties, platform):
    """docs/economy.md §2: each role floor(amount x ppm / 10^6), divided equally among its
    parties; unfilled roles and every remainder to the platform."""
    out, paid = {}, 0
    for role, ppm in table.items():
        if role == "platform" or not parties.get(role):
            continue
        share = amount * ppm // M
        each = share // len(parties[role])
        for a in parties[role]:
            out[a] = out.get(a, 0) + each
            paid += each
    out[platform] = out.get(platform, 0) + amount - paid
    return out


def add(acc, credits, sign=1):
    for a, v in credits.items():
        acc[a] = acc.get(a, 0) + sign * v


def patient_pool(owner):
    return bech32m_encode("lb", blake2b256(addr_bytes(owner), "LEBEN-patient-pool-v1")[:20])


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix="leben-market-demo-test.")
    home = os.path.join(work, "home")
    node = None
    try:
        e = env()
        e.update(LEBEN=BIN, DEMO_HOME=home)
        r = subprocess.run(["sh", os.path.join(ROOT, "examples", "market-demo.sh")], env=e,
                           capture_output=True, text=True, timeout=300)
        t.ok(r.returncode == 0, "examples/market-demo.sh exits 0", (r.stdout + r.stderr)[-3000:])
        t.ok("verifies from genesis" in r.stdout, "the script's own `leben verify` passes",
             r.stdout[-1500:])
        if r.returncode != 0:
            t.done()

        # the same home, a node of its own (the script stopped its node)
        node = Node.attach(home)
        node.start()
        with open(os.path.join(home, "genesis.json")) as f:
            g = json.load(f)
        A = {k: node.address(k) for k in ("alice", "bob", "clinic", "bank", "doctor",
                                          "hospital2", "patient7", "platform")}
        init = {a["address"]: (a.get("asc", 0), a.get("csc", 0)) for a in g["accounts"]}
        r, st = node.cli_json(["market", "status"])
        t.ok(r.returncode == 0 and st, "leben market status --json", r.stderr)
        platform = st["platform"]
        t.eq(platform, A["platform"], "the platform pool is the genesis' platform key")
        T, bonus, w = st["splits"], st["bonus"], st["weights"]
        quota = g["market"]["quota"]
        t.eq(st["quota"], quota, "the quota the script set in genesis")

        def bal(addr):
            b = node.account(addr).get("balances") or {}
            return b.get("asc", 0), b.get("csc", 0)

        # -- ASC: the three uses through the genesis tables, computed here ----------------------
        pool = {h: patient_pool(A[h]) for h in ("clinic", "hospital2")}
        cc = split(T["contract-call"], 20 * M, {"authors": [A["doctor"]],
                                                "executor": [A["clinic"]],
                                                "patients": [A["patient7"]]}, platform)
        s1 = split(T["study"], 30 * M, {"owner": [A["clinic"]], "executor": [A["clinic"]],
                                        "patients": [pool["clinic"]]}, platform)
        s2 = split(T["study"], 30 * M, {"owner": [A["hospital2"]], "executor": [A["hospital2"]],
                                        "patients": [pool["hospital2"]]}, platform)
        for name, s, amt in (("contract call", cc, 20 * M), ("study 1", s1, 30 * M),
                             ("study 2", s2, 30 * M)):
            t.eq(sum(s.values()), amt, "the %s's credits add up to its amount" % name)
        want = {a: init.get(a, (0, 0))[0] for a in A.values()}
        for p in pool.values():
            want[p] = 0
        for s in (cc, s1, s2):
            add(want, s)
        want[A["clinic"]] -= 20 * M                 # pays the call
        want[A["alice"]] -= 60 * M                  # pays both studies
        want[A["bank"]] += 1000 * M - 210 * M - 100 * M  # issue, fund 100+100+10, redeem
        want[pool["clinic"]] -= 1 * M               # pool-pay to patient7
        want[A["patient7"]] += 1 * M
        want[A["clinic"]] += -5 * M + 2 * M         # store deposit, withdrawal paid out
        got = {a: bal(a)[0] for a in want}
        # the ticks (alice -> bob, 1 micro-ASC each) only move ASC between the two
        ticks = got[A["bob"]] - want[A["bob"]]
        t.ok(ticks >= 0, "bob received only the ticks (%d micro-ASC)" % ticks, got[A["bob"]])
        want[A["bob"]] += ticks
        want[A["alice"]] -= ticks
        for k in ("doctor", "clinic", "hospital2", "patient7", "bank", "alice", "bob"):
            t.eq(got[A[k]], want[A[k]], "%s's ASC" % k)
        t.eq(got[platform], want[platform], "the platform pool's ASC (shares, unfilled roles, "
             "remainders)")
        for h in pool:
            t.eq(got[pool[h]], want[pool[h]], "%s's patient pool's ASC" % h)
        r, wal = node.cli_json(["store", "wallet", "clinic"])
        t.eq((wal or {}).get("wallet"), 3 * M, "the clinic's store wallet: 5 in, 2 out")
        g_asc = sum(v[0] for v in init.values())
        t.eq(st["totals"]["asc_supply"], g_asc + 1000 * M - 100 * M, "ASC supply: genesis + "
             "issued - redeemed")
        t.eq(st["totals"]["asc_redeemed"], 100 * M, "ASC redeemed")

        # -- the rankings: pools allotted and paid in proportion to the scores ------------------
        nxt = st["next_period"]
        rk = []
        for p in range(nxt):
            r, j = node.cli_json(["market", "rankings", str(p)])
            t.ok(r.returncode == 0 and j and j["period"] == p, "rankings of period %d" % p,
                 r.stderr)
            api = node.get("/v1/market/rankings/%d" % p)[1]
            t.eq(api, j, "period %d: CLI and API rankings agree" % p)
            rk.append(j)
        use = [p for p in range(nxt) if rk[p]["developers"]["top"]]
        t.eq(len(use), 1, "one period has the uses (developers active)")
        use = use[0]
        # scores (docs/economy.md §5): volume (the node's share) + calls x weight.call
        # + scale x weight.scale; hospital2's 12 records count in the period the node cited
        # them, the use period or a later one
        dev_score = {A["doctor"]: cc[A["doctor"]] + w["developers"]["call"]}
        data_use = {A["clinic"]: 30 * M * T["study"]["owner"] // M + w["data"]["call"],
                    A["hospital2"]: 30 * M * T["study"]["owner"] // M + w["data"]["call"]}
        later = [p for p in range(use + 1, nxt) if rk[p]["data"]["top"]]
        scale = 12 * w["data"]["scale"]
        if not later:
            data_use[A["hospital2"]] += scale
        per = -(-(100 * M * quota["csc_per_asc"]) // quota["periods"])
        paid = {}
        for pool_name, funded in (("developers", 100), ("data", 100)):
            total = funded * M * quota["csc_per_asc"]
            avail, allotted = 0, 0
            for p in range(nxt):
                a = rk[p][pool_name]["allotted_csc"]
                t.ok(a in (0, per, total - allotted), "period %d: %s allotment %d is one "
                     "period's share" % (p, pool_name, a), per)
                allotted += a
                avail += a
                if p == use:
                    scores = dev_score if pool_name == "developers" else data_use
                elif pool_name == "data" and later and p == later[0]:
                    scores = {A["hospital2"]: scale}
                else:
                    scores = {}
                # the top k by score, ties by address (its bytes)
                top = sorted(scores.items(),
                             key=lambda kv: (-kv[1], addr_bytes(kv[0])))[:st["top_k"]]
                tot = sum(s for _, s in top)
                exp = [{"rank": i + 1, "node": n, "score": s, "paid_csc": avail * s // tot}
                       for i, (n, s) in enumerate(top)]
                t.eq(rk[p][pool_name]["top"], exp, "period %d: %s ranking and payouts" %
                     (p, pool_name))
                for x in exp:
                    paid[x["node"]] = paid.get(x["node"], 0) + x["paid_csc"]
                    avail -= x["paid_csc"]
            t.eq(allotted, total, "%s pool allotted all its %d CSC" % (pool_name, total // M))
            t.eq(st["pools"][pool_name]["csc_available"], avail, "%s pool keeps the rounding"
                 % pool_name)

        # -- CSC: bonuses from the bonus pool, payouts from the ranked pools, fees ---------------
        bonus_paid = {A["patient7"]: bonus["contract-call"]["patients"],
                      A["doctor"]: bonus["contract-call"]["authors"],
                      A["clinic"]: bonus["study"]["owner"],
                      A["hospital2"]: bonus["study"]["owner"],
                      pool["clinic"]: bonus["study"]["patients"],
                      pool["hospital2"]: bonus["study"]["patients"]}
        t.eq(st["pools"]["bonus"]["csc_available"],
             10 * M * quota["csc_per_asc"] - sum(bonus_paid.values()),
             "the bonus pool: its quota less the bonuses paid")
        # every settlement tx the parties signed paid the default fee (from /v1/status), but
        # the bank's one issue, which has a minimum of its own (exempt by default)
        fees = node.get("/v1/status")[1]["fees"]
        fee = fees["default"]
        sent = {a: node.account(a)["chains"]["settlement"]["next_nonce"] for a in A.values()}
        paid_fee = {a: fee * n for a, n in sent.items()}
        paid_fee[A["bank"]] += fees["types"].get("issue", fee) - fee
        wcsc = {a: init.get(a, (0, 0))[1] - paid_fee[a] for a in A.values()}
        for p in pool.values():
            wcsc[p] = 0
        add(wcsc, bonus_paid)
        add(wcsc, paid)
        wcsc[A["clinic"]] -= 20 * M                 # 10 CSC each to hospital2 and the doctor
        wcsc[A["hospital2"]] += 10 * M
        wcsc[A["doctor"]] += 10 * M
        for k in ("doctor", "patient7", "hospital2", "clinic", "bank", "alice", "bob"):
            t.eq(bal(A[k])[1], wcsc[A[k]], "%s's CSC" % k)
        for h in pool:
            t.eq(bal(pool[h])[1], wcsc[pool[h]], "%s's patient pool's CSC (the bonus)" % h)
        minted = (100 + 100 + 10) * M * quota["csc_per_asc"]
        t.eq(st["totals"]["csc_minted"], minted, "CSC minted: the three pools' quotas")
        g_csc = sum(v[1] for v in init.values())
        t.eq(st["totals"]["csc_supply"], g_csc + minted - sum(paid_fee.values())
             - st["totals"]["csc_burned"], "CSC supply: genesis + minted - fees - burned")

        node.stop()
        r = run_cli(["verify", "--home", home])
        t.ok(r.returncode == 0 and "verifies from genesis" in r.stdout,
             "leben verify replays the chains after the restart", r.stdout + r.stderr)
    finally:
        if node:
            node.stop()
        shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
