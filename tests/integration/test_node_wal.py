#!/usr/bin/env python3
"""Accepted means durable: txs answered 202 by a solo node whose next block is far away, then
kill -9 before any block holds them; on restart the node replays its write-ahead log and the
txs commit. A torn record appended to the log (a crash mid-write) is ignored."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Node, Tap  # noqa: E402


def main():
    t = Tap()
    node = Node()
    try:
        node.set_config(block_interval_ms=600000)
        node.start()
        st, chains = node.get("/v1/chains")
        ids = []
        for i in range(3):
            hx = node.sign("record", ["--from", "clinic", "--kind", "test.wal",
                                      "--subject", "s%d" % i])[0]
            st, j = node.post_txs({"tx": hx})
            t.eq(st, 202, "tx %d accepted" % i)
            ids.append(j.get("id"))
        pending = [node.get("/v1/txs/" + x)[1].get("status") for x in ids]
        t.eq(pending, ["pending"] * 3, "no block holds them before the kill")
        wal = os.path.join(node.home, "chains", "business.wal")
        t.ok(os.path.getsize(wal) > 0, "the write-ahead log holds the accepted txs")
        node.kill9()
        with open(wal, "ab") as f:
            f.write(bytes([200, 0, 0, 0]) + b"\x00" * 20)  # a torn record
        node.set_config(block_interval_ms=100)
        node.start()
        done = [node.wait_tx(x, timeout=30) for x in ids]
        t.ok(all(d is not None and d.get("status") == "committed" for d in done),
             "after kill -9 and restart the accepted txs commit", done)
        t.ok(any("torn" in line for line in node.log), "the torn tail is reported in the log")
        node.stop()
    finally:
        node.cleanup()
    t.done()


if __name__ == "__main__":
    main()
