#!/usr/bin/env python3
"""Accepted means durable, under load: kill -9 cycles of a solo node while three clients post
batches of pre-signed txs, one per chain (settlement transfers, directory asset updates,
business records). A tx answered accepted (status "pending" in the batch answer) must end up
in a block: after the last cycle each chain's sender's committed nonce shows how many of its
txs are committed (they carry consecutive nonces), every accepted tx past that count is lost,
and 100 accepted txs per chain are also looked up one by one. A tx whose answer
was lost in the kill is sent again after the restart (a duplicate answer then means the node
had kept it). CRASH_CYCLES sets the number of kill cycles (default 20, about a minute; `make
crash-test` runs it alone); CRASH_SEED fixes the kill times."""

import http.client
import json
import os
import random
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Node, Tap  # noqa: E402

CYCLES = int(os.environ.get("CRASH_CYCLES", "20"))
PER_CYCLE = 2000  # txs per chain a cycle may send
BATCH = 50
BLOCK_MS = 1000   # blocks every second: a kill finds accepted txs that no block holds yet


def post(port, txs, timeout=20):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", "/v1/txs", body=json.dumps({"txs": txs}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, json.loads(r.read().decode())
    finally:
        c.close()


class Feeder(threading.Thread):
    """Posts its chain's txs in order, in batches; remembers the ids answered accepted."""

    def __init__(self, chain, txs, shared):
        super().__init__(daemon=True)
        self.chain, self.txs, self.shared = chain, txs, shared
        self.pos = 0            # first tx not yet known to be held by the node
        self.limit = 0          # txs it may send
        self.accepted = {}      # id -> index
        self.duplicates = 0     # answered "already waiting/committed" after a resend
        self.unexpected = []    # refusals other than duplicates and a full mempool
        self.done = False

    def run(self):
        while not self.done:
            port = self.shared["port"]
            if not self.shared["up"].is_set() or self.pos >= self.limit:
                time.sleep(0.01)
                continue
            batch = self.txs[self.pos:min(self.pos + BATCH, self.limit)]
            try:
                st, j = post(port, batch)
            except (OSError, http.client.HTTPException, ValueError):
                time.sleep(0.02)  # the node is down: send the same txs again after restart
                continue
            if st != 200:
                self.unexpected.append("HTTP %d: %s" % (st, str(j)[:200]))
                time.sleep(0.05)
                continue
            for r in j.get("results", []):
                code = (r.get("error") or {}).get("code")
                if r.get("status") == "pending":
                    self.accepted[r["id"]] = self.pos
                elif code == "LB_EDUPLICATE":
                    self.duplicates += 1
                elif code == "LB_EBUSY":
                    time.sleep(0.05)
                    break
                else:
                    self.unexpected.append("tx %d: %s %s" % (self.pos, code,
                                                             (r.get("error") or {}).get("message")))
                    break
                self.pos += 1


def main():
    t = Tap()
    rnd = random.Random(int(os.environ.get("CRASH_SEED", str(int(time.time())))))
    node = Node()
    t0 = time.time()
    try:
        node.set_config(block_interval_ms=BLOCK_MS)
        node.start()
        # a directory asset of clinic's whose updates make the directory load
        content = "c7" * 32
        hx = node.sign("asset-register", ["--from", "clinic", "--content-hash", content])[0]
        st, j = node.post_txs({"tx": hx})
        t.eq(st, 202, "asset registered")
        node.wait_tx(j.get("id"), timeout=30)
        again = node.sign("asset-register", ["--from", "clinic", "--content-hash", content])[0]
        st, j = node.post_txs({"tx": again})
        m = re.search(r"asset ([0-9a-f]{64})", json.dumps(j))
        t.ok(m is not None, "asset id found", j)
        asset = m.group(1)
        n = PER_CYCLE * CYCLES
        senders, base = {}, {}
        for chain, key in (("settlement", "alice"), ("directory", "clinic"), ("business", "bob")):
            r, acct = node.cli_json(["query", "account", key])
            senders[chain] = acct["address"]
            base[chain] = acct["chains"][chain]["next_nonce"]
        work = {
            "settlement": node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount",
                                                 "0.000001", "--count", str(n)]),
            "directory": node.sign("asset-update", ["--from", "clinic", "--id", asset,
                                                    "--content-hash", "d8" * 32, "--count",
                                                    str(n)]),
            "business": node.sign("record", ["--from", "bob", "--kind", "crash.test",
                                             "--subject", "load", "--count", str(n)]),
        }
        t.ok(all(len(v) == n for v in work.values()), "%d txs signed per chain" % n)
        shared = {"port": node.port, "up": threading.Event()}
        feeders = [Feeder(c, txs, shared) for c, txs in work.items()]
        for f in feeders:
            f.start()
        replayed = replay_cycles = 0
        for cycle in range(CYCLES):
            for f in feeders:
                f.limit = PER_CYCLE * (cycle + 1)
            shared["port"] = node.port
            shared["up"].set()
            # before the cycle's first block (BLOCK_MS after its first tx): the kill finds
            # accepted txs that only the write-ahead logs hold
            time.sleep(rnd.uniform(0.2, 0.9))
            node.kill9()
            shared["up"].clear()
            node.start()
            n_before = replayed
            for line in node.log:
                mm = re.search(r"replayed (\d+) of (\d+) accepted txs", line)
                if mm:
                    replayed += int(mm.group(1))
            replay_cycles += replayed > n_before
        # after the last restart: the feeders resend what they sent last, then stop
        shared["port"] = node.port
        shared["up"].set()
        time.sleep(1)
        for f in feeders:
            f.done = True
            f.join(5)
        accepted = sum(len(f.accepted) for f in feeders)
        # every chain's txs come from one sender with consecutive nonces from base[chain]: the
        # sender's committed nonce counts the txs committed valid, and tx i of the list can be
        # committed only after txs 0..i-1 (an accepted tx with an index at or past that count
        # is lost); a sample is also looked up one by one
        end = time.time() + 60
        while time.time() < end:
            st, j = node.get("/v1/status")
            if st == 200 and all(j["chains"][f.chain]["pending"] == 0 for f in feeders):
                break
            time.sleep(0.2)
        lost, looked = {}, 0
        for f in feeders:
            st, acct = node.get("/v1/accounts/" + senders[f.chain])
            count = acct["chains"][f.chain]["nonce"] - base[f.chain]
            lost[f.chain] = sum(1 for i in f.accepted.values() if i >= count)
            for txid in rnd.sample(sorted(f.accepted), min(100, len(f.accepted))):
                st, j = node.get("/v1/txs/" + txid)
                looked += 1
                if j.get("status") != "committed":
                    lost[f.chain] += 1
        per = ", ".join("%s %d accepted / %d lost" % (f.chain, len(f.accepted), lost[f.chain])
                        for f in feeders)
        print("# crash test: %d kill -9 cycles under load, %d accepted txs, %d lost (%s); %d "
              "replayed from the write-ahead logs at %d restarts, %d answers lost in a kill and "
              "found kept on resend; %.0f s"
              % (CYCLES, accepted, sum(lost.values()), per, replayed, replay_cycles,
                 sum(f.duplicates for f in feeders), time.time() - t0))
        t.ok(replay_cycles * 2 >= CYCLES, "the write-ahead logs held accepted txs no block held "
             "at %d of the %d kills" % (replay_cycles, CYCLES))
        for f in feeders:
            t.ok(not f.unexpected, "%s: no unexpected refusal" % f.chain, f.unexpected[:5])
            t.ok(len(f.accepted) > 0, "%s: txs accepted under load" % f.chain)
            t.eq(lost[f.chain], 0, "%s: every accepted tx is committed after %d kill -9 cycles"
                 % (f.chain, CYCLES))
        node.stop()
    finally:
        node.kill9()
        node.cleanup()
    t.done()


if __name__ == "__main__":
    main()
