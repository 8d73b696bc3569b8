#!/usr/bin/env python3
"""POST /v1/txs answers every tx of a batch the same whether the node checks signatures in
batches (the default) or one by one (config `sig_batch` false): a batch of 1000 with bad
signatures at the first, middle and last place, a tx twice, a tx committed before and one that
does not decode gets the same per-tx results from two copies of one node home, one checking in
batches and one not, and the accounts are left the same."""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Node, Tap  # noqa: E402

N = 1000
BAD = (0, 500, N - 1)
COMMITTED, DUP_OF, DUP, MALFORMED = 300, 600, 601, 700


def flip_last(hx):
    """The tx with a bit of its signature (its last bytes) changed."""
    return hx[:-1] + "%x" % (int(hx[-1], 16) ^ 1)


def run_once(t, node, batch, label):
    node.start()
    st, j = node.post_txs(batch)
    t.eq(st, 200, "%s: the batch is answered" % label)
    accounts = {a: node.account(a)["chains"]["settlement"] for a in ("alice", "bob")}
    node.stop()
    return j.get("results", []), accounts


def main():
    t = Tap()
    node = Node()
    homes = [node.home]
    try:
        node.set_config(block_interval_ms=100)
        node.start()
        x = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "0.000001",
                                   "--nonce", "0"])[0]
        st, j = node.post_txs({"tx": x})
        done = node.wait_tx(j.get("id", ""), timeout=30) if st == 202 else None
        t.ok(done is not None and done.get("status") == "committed", "tx X committed", done)
        alice = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "0.000001",
                                       "--nonce", "1", "--count", "600"])
        bob = node.sign("transfer", ["--from", "bob", "--to", "alice", "--amount", "0.000001",
                                     "--nonce", "0", "--count", "394"])
        bad = node.sign("transfer", ["--from", "bob", "--to", "alice", "--amount", "0.000002",
                                     "--nonce", "394", "--count", "3"])
        node.stop()
        normal = alice + bob
        t.eq(len(normal), N - 6, "txs signed")
        batch, k = [], 0
        for i in range(N):
            if i in BAD:
                batch.append(flip_last(bad[BAD.index(i)]))
            elif i == COMMITTED:
                batch.append(x)
            elif i == DUP:
                batch.append(batch[DUP_OF])
            elif i == MALFORMED:
                batch.append(bad[0][:-10])  # cut short: does not decode
            else:
                batch.append(normal[k])
                k += 1
        # a copy of the home before either run: the same keys, genesis and chains
        copy = node.home + "-one-by-one"
        shutil.copytree(node.home, copy)
        homes.append(copy)
        node.set_config(block_interval_ms=600000)  # the batch stays in the mempool
        res_batch, acc_batch = run_once(t, node, batch, "in batches")
        node.home = copy
        node.set_config(block_interval_ms=600000, sig_batch=False)
        res_single, acc_single = run_once(t, node, batch, "one by one")
        t.eq(len(res_batch), N, "a result for every tx")
        diff = [i for i in range(N) if res_batch[i] != res_single[i]]
        t.ok(not diff, "every tx gets the same result in batches as one by one",
             [(i, res_batch[i], res_single[i]) for i in diff[:3]])
        code = [r.get("error", {}).get("code") for r in res_batch]
        want = {i: "LB_EBADSIG" for i in BAD}
        want.update({COMMITTED: "LB_EDUPLICATE", DUP: "LB_EDUPLICATE",
                     MALFORMED: "LB_EMALFORMED"})
        t.eq({i: code[i] for i in want}, want, "the refused txs and their codes")
        t.eq(sum(1 for c in code if c is None), N - 6, "the other 994 are accepted")
        t.ok("already committed" in res_batch[COMMITTED]["error"]["message"]
             and "already waiting" in res_batch[DUP]["error"]["message"],
             "the committed tx and the repeated tx are named as such")
        t.eq(acc_batch, acc_single, "alice's and bob's accounts are the same after both")
    finally:
        node.stop()
        for h in homes:
            shutil.rmtree(h, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
