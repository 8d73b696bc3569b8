#!/usr/bin/env python3
"""Per-step charge of the on-chain sandbox through a real node (docs/economy.md, "Per-step
charge of compute.run"), on a chain whose genesis says "compute": {"prepay": true}:

attacks first, each refused with its own error and every balance and the CSC supply
unchanged: a run without a prepayment, a run citing another account's prepayment, a run with
a budget above the prepaid one, a prepayment used by a second run, a settlement claiming more
steps than the run used, a second settlement of a settled run (sent by another account);

then the charge: alice prepays 1000 steps at the genesis price of 7 micro-CSC a step, runs
a program of a known step count citing it, and the node settles it by itself: her CSC falls by
exactly steps x 7 + the prepayment's fee, the prepayment address holds nothing, and the CSC
supply fell by the burn + the fee. A run by hash is settled too, with the published program;
Reclaim (attacks first, each refused with its message, every balance unchanged): a reclaim by
another account, before the expiry, of a prepayment a run cited (settlement pending, then
done), of an old prepayment without expiry, twice; a run citing a prepayment past half its
expiry. `leben verify` replays it all."""
import time

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import bech32m_encode, run_node, uvarint  # noqa: E402

PRICE = 7
PROG = b"let a = x * 3\nlet b = a + 4\nout y = b * b\n"
# three statements, each one binary operation over a name and a literal: 3 steps each
STEPS = 9
PROG2 = b"out z = x + 1\n"  # 3 steps


def bstr(b):
    return uvarint(len(b)) + b


def zz(v):
    return (v << 1) ^ (v >> 63) if v >= 0 else ((v << 1) ^ -1) & ((1 << 64) - 1)


def run_payload(prog, budget, x, prepay=None, by_hash=False):
    if by_hash:
        p = b"\x01" + prog
    else:
        p = b"\x00" + bstr(prog)
    p += uvarint(budget) + uvarint(1) + bstr(b"x") + b"\x00" + uvarint(zz(x))
    if prepay:
        p += bstr(prepay[0]) + bstr(prepay[1])
    return p.hex()


def main():
    def genesis(g, node):
        g["market"] = {"platform": node_addr_placeholder(), "period_blocks": 100000,
                       "compute": {"step": PRICE}}
        g["compute"] = {"prepay": True}
    def run_and_reclaim(t, node):
        run(t, node)
        reclaim(t, node)

    run_node(run_and_reclaim, genesis=genesis, demo=True,
             verify="leben verify replays the prepaid runs, their settlements and reclaims")


def node_addr_placeholder():
    return bech32m_encode("lb", b"\x11" * 20)


def raw(node, key, chain, type_id, payload):
    r = node.cli(["tx", "raw", "--from", key, "--chain", chain, "--type-id", type_id,
                  "--payload", payload, "--wait", "--json"])
    try:
        j = json.loads(r.stdout)
    except ValueError:
        j = {}
    return r, j


def txid(j):
    return j.get("id") or j.get("tx") or ""


def run(t, node):
    def csc(who):
        return (node.account(who).get("balances") or {}).get("csc", 0)

    def supply():
        st, m = node.get("/v1/market")
        return (m.get("totals") or {}).get("csc_supply")

    nudge_fees = []

    def nudge(n=1):
        """A block on each chain; bob pays the fee, counted for the supply check."""
        for _ in range(n):
            r, j = node.cli_json(["tx", "transfer", "--from", "bob", "--to", "clinic",
                                  "--amount", "0.000001", "--wait"])
            st, tj = node.get("/v1/txs/" + txid(j or {}))
            nudge_fees.append(int(tj.get("fee", 0)) if st == 200 else 0)

    def burned():
        st, m = node.get("/v1/market")
        return (m.get("totals") or {}).get("csc_burned")

    def proof(tid, anchor):
        for _ in range(40):
            st, pr = node.get("/v1/txs/%s/proof?anchor=%s" % (tid, anchor))
            if st == 200 and pr.get("proof"):
                return bytes.fromhex(pr["tx"]), bytes.fromhex(pr["proof"])
            nudge()
        return b"", b""

    def snapshot():
        return (csc("alice"), csc("clinic"), supply())

    # prepayments of alice (two) and clinic
    r, pa2 = raw(node, "alice", "settlement", "0x012a", uvarint(10).hex())
    t.eq(r.returncode, 0, "alice prepays 10 steps " + r.stderr)
    r, pc = raw(node, "clinic", "settlement", "0x012a", uvarint(1000).hex())
    t.eq(r.returncode, 0, "clinic prepays 1000 steps " + r.stderr)
    a0, sup0, b0 = csc("alice"), supply(), burned()
    del nudge_fees[:]
    r, pa = raw(node, "alice", "settlement", "0x012a", uvarint(1000).hex())
    t.eq(r.returncode, 0, "alice prepays 1000 steps " + r.stderr)
    st, pj = node.get("/v1/txs/" + txid(pa))
    fee = int(pj.get("fee", 0)) if st == 200 else -1
    t.eq(pj.get("payload"), {"budget": 1000}, "the prepayment's JSON shows its budget")
    t.eq(a0 - csc("alice"), 1000 * PRICE + fee, "the prepayment locks 1000 x 7 micro-CSC + fee")
    pa_tx = proof(txid(pa), "business")
    pa2_tx = proof(txid(pa2), "business")
    pc_tx = proof(txid(pc), "business")
    t.ok(pa_tx[1] and pa2_tx[1] and pc_tx[1], "the prepayments are anchored in business blocks")

    s0 = snapshot()
    r, _ = raw(node, "alice", "business", "0x0350", run_payload(PROG, 1000, 5))
    t.ok(r.returncode == 1 and "charges runs per step" in r.stderr,
         "a run without a prepayment is refused", r.stderr)
    r, _ = raw(node, "alice", "business", "0x0350", run_payload(PROG, 1000, 5, pc_tx))
    t.ok(r.returncode == 1 and "sent by another account" in r.stderr,
         "a run citing clinic's prepayment is refused", r.stderr)
    r, _ = raw(node, "alice", "business", "0x0350", run_payload(PROG, 1000, 5, pa2_tx))
    t.ok(r.returncode == 1 and "more than the 10 prepaid" in r.stderr,
         "a budget above the prepaid one is refused", r.stderr)
    t.eq(snapshot(), s0, "the refused runs changed no balance and not the supply")
    try_prog = tempfile.NamedTemporaryFile(suffix=".oc", delete=False)
    try_prog.write(PROG)
    try_prog.close()
    r, lj = node.cli_json(["compute", "try", try_prog.name, "x=5"])
    t.eq((lj or {}).get("steps"), STEPS, "leben compute try counts the program's steps locally")

    r, rj = raw(node, "alice", "business", "0x0350", run_payload(PROG, 1000, 5, pa_tx))
    t.eq(r.returncode, 0, "alice's prepaid run is committed " + r.stderr)
    rid = txid(rj)
    st, rec = node.get("/v1/compute/runs/" + rid)
    steps = rec.get("steps")
    t.eq(rec.get("outputs"), {"y": (5 * 3 + 4) ** 2}, "the run's output")
    r, _ = raw(node, "alice", "business", "0x0350", run_payload(PROG, 1000, 6, pa_tx))
    t.ok(r.returncode == 1 and "used by another run already" in r.stderr,
         "a prepayment used twice is refused", r.stderr)

    # a settlement claiming more steps than the run used (checked before "settled already",
    # so it is refused for that reason whether or not the node has settled the run yet)
    run_tx = proof(rid, "settlement")
    s1 = snapshot()

    def settle(n):
        return (bstr(run_tx[0]) + bstr(run_tx[1]) + uvarint(n) + bstr(b"")).hex()

    r, _ = raw(node, "clinic", "settlement", "0x012b", settle(steps + 1))
    t.ok(r.returncode == 1 and "claims %d steps but the run used %d" % (steps + 1, steps)
         in r.stderr, "a settlement claiming more steps than the run used is refused", r.stderr)
    t.eq(csc("clinic"), s1[1], "the refused settlement cost its sender nothing")
    # the node settles it by itself
    for _ in range(60):
        st, _x = node.get("/v1/txs/" + rid)
        if csc("alice") != s1[0]:
            break
        nudge()
    a1 = csc("alice")
    t.eq(a1 - s1[0], (1000 - steps) * PRICE, "the node refunded the unused steps to alice")
    t.eq(burned() - b0, steps * PRICE, "steps x price burned (market totals)")
    s2 = snapshot()
    r, _ = raw(node, "clinic", "settlement", "0x012b", settle(steps))
    t.ok(r.returncode == 1 and "settled already" in r.stderr,
         "another account's copy of the settlement is refused as a repeat", r.stderr)
    t.eq(snapshot()[:2], s2[:2], "the repeat changed no balance")
    t.eq(steps, STEPS, "the run took the program's known step count")
    t.eq(a0 - csc("alice"), steps * PRICE + fee, "alice paid exactly steps x price + the fee")
    t.eq(sup0 - supply(), steps * PRICE + fee + sum(nudge_fees),
         "the CSC supply fell by the burn + the fees (supply = genesis - burned - fees)")

    # a run by hash (clinic's prepayment): the node settles it with the published program
    c0 = csc("clinic")
    r, _ = raw(node, "clinic", "business", "0x0351", PROG2.hex())
    t.eq(r.returncode, 0, "PROG2 published " + r.stderr)
    with open(try_prog.name, "wb") as f:
        f.write(PROG2)
    r, lj = node.cli_json(["compute", "try", try_prog.name, "x=1"])
    os.unlink(try_prog.name)
    ph = bytes.fromhex((lj or {}).get("program_hash", ""))
    r, rj2 = raw(node, "clinic", "business", "0x0350", run_payload(ph, 1000, 1, pc_tx, True))
    t.eq(r.returncode, 0, "clinic runs PROG2 by hash with its prepayment " + r.stderr)
    rid2 = txid(rj2)
    st, rec2 = node.get("/v1/compute/runs/" + rid2)
    for _ in range(60):
        st, sj = node.get("/v1/txs/" + rid2)
        if csc("clinic") - c0 >= (1000 - 3) * PRICE:
            break
        nudge()
    t.eq(rec2.get("steps"), 3, "the run by hash took 3 steps")
    t.ok(csc("clinic") - c0 >= (1000 - 3) * PRICE,
         "the node settled the run by hash: 997 steps refunded to clinic")

    # a run beyond its budget is refused (not cut short) and leaves the prepayment unused
    r, _ = raw(node, "alice", "business", "0x0350", run_payload(PROG, 5, 5, pa2_tx))
    t.ok(r.returncode == 1 and "LB_ELIMIT" in r.stderr,
         "a run over its step budget is refused", r.stderr)
    r, _ = raw(node, "alice", "business", "0x0350", run_payload(PROG, 10, 5, pa2_tx))
    t.eq(r.returncode, 0, "its prepayment is still there for a run within budget " + r.stderr)

    # the CLI: `leben compute run --prepay` prepays the budget and cites it
    with tempfile.NamedTemporaryFile(suffix=".oc", delete=False) as f:
        f.write(PROG)
    r = node.cli(["compute", "run", f.name, "x=2", "--budget", "20", "--from", "clinic"])
    t.ok(r.returncode == 1 and "charges runs per step" in r.stderr,
         "leben compute run without --prepay is refused here", r.stderr)
    c1 = csc("clinic")
    r, cj = node.cli_json(["compute", "run", f.name, "x=2", "--budget", "20", "--prepay",
                           "--from", "clinic"])
    os.unlink(f.name)
    t.ok(r.returncode == 0 and (cj or {}).get("outputs") == {"y": 100},
         "leben compute run --prepay runs it", r.stdout + r.stderr)
    for _ in range(60):
        if csc("clinic") - c1 >= -(STEPS * PRICE + fee):
            break
        nudge()
    t.eq(c1 - csc("clinic"), STEPS * PRICE + fee,
         "the node settled it: clinic paid 9 steps x 7 + the prepayment's fee")


def reclaim(t, node):
    def csc(who):
        return (node.account(who).get("balances") or {}).get("csc", 0)

    def nudge():
        node.cli_json(["tx", "transfer", "--from", "bob", "--to", "clinic",
                       "--amount", "0.000001", "--wait"])

    def proof(tid):
        for _ in range(40):
            st, pr = node.get("/v1/txs/%s/proof?anchor=business" % tid)
            if st == 200 and pr.get("proof"):
                return bytes.fromhex(pr["tx"]), bytes.fromhex(pr["proof"])
            nudge()
        return b"", b""

    def reclaim_cli(key, pid):
        return node.cli(["compute", "reclaim", pid, "--from", key])

    def refused(key, pid, words, what):
        a, c = csc("alice"), csc("clinic")
        r = reclaim_cli(key, pid)
        t.ok(r.returncode == 1 and words in r.stderr, what, r.stdout + r.stderr)
        t.eq((csc("alice"), csc("clinic")), (a, c), "... and no balance changed")

    # a prepayment of 10 steps that expires 3 s after its block; no run uses it
    r, pe = raw(node, "alice", "settlement", "0x012a", (uvarint(10) + uvarint(3)).hex())
    t.eq(r.returncode, 0, "alice prepays 10 steps with a 3 s expiry " + r.stderr)
    pid = txid(pe)
    st, pj = node.get("/v1/txs/" + pid)
    t.eq(pj.get("payload"), {"budget": 10, "expiry_s": 3}, "the prepayment shows its expiry")
    pe_tx = proof(pid)
    refused("clinic", pid, "made by another account", "a reclaim by someone else is refused")
    refused("alice", pid, "a run may still be settled from it", "a reclaim before expiry is "
            "refused")
    r, _ = raw(node, "alice", "settlement", "0x012a", (uvarint(10) + uvarint(1)).hex())
    t.ok(r.returncode == 1 and "too short" in r.stderr, "an expiry under 2 s is refused",
         r.stderr)
    time.sleep(3.2)
    nudge()
    r, _ = raw(node, "alice", "business", "0x0350", run_payload(PROG, 10, 5, pe_tx))
    t.ok(r.returncode == 1 and "half its expiry" in r.stderr,
         "a run citing a prepayment past half its expiry is refused", r.stderr)
    a0 = csc("alice")
    r = reclaim_cli("alice", pid)
    t.eq(r.returncode, 0, "alice reclaims her expired prepayment " + r.stdout + r.stderr)
    st, rj = node.get("/v1/txs/" + (r.stdout.split("compute.reclaim ")[-1].strip(" )\n")))
    fee = int(rj.get("fee", 0)) if st == 200 else -1
    t.eq(csc("alice") - a0, 10 * PRICE - fee, "she got the 10 x 7 micro-CSC back (less the fee)")
    refused("alice", pid, "reclaimed already", "a second reclaim is refused")

    # a prepayment a run cites: no reclaim while its settlement is pending, nor after it
    r, pr = raw(node, "alice", "settlement", "0x012a", (uvarint(1000) + uvarint(30)).hex())
    t.eq(r.returncode, 0, "alice prepays 1000 steps with a 30 s expiry " + r.stderr)
    pid2 = txid(pr)
    pr_tx = proof(pid2)
    a1 = csc("alice")
    r, rj = raw(node, "alice", "business", "0x0350", run_payload(PROG, 1000, 5, pr_tx))
    t.eq(r.returncode, 0, "a run cites it within half its expiry " + r.stderr)
    refused("alice", pid2, "a run may still be settled from it",
            "a reclaim of a prepayment a run cited, its settlement pending, is refused")
    for _ in range(60):
        if csc("alice") != a1:
            break
        nudge()
    t.eq(csc("alice") - a1, (1000 - STEPS) * PRICE, "the node settled the run")
    refused("alice", pid2, "it was settled", "a reclaim of a settled prepayment is refused")
    # an old prepayment (no expiry field): never expires, cannot be reclaimed
    r, po = raw(node, "alice", "settlement", "0x012a", uvarint(5).hex())
    refused("alice", txid(po), "carries no expiry",
            "a prepayment made without an expiry cannot be reclaimed")
    refused("alice", "00" * 32, "no prepayment with this tx id",
            "a reclaim of an unknown prepayment is refused")


if __name__ == "__main__":
    main()
