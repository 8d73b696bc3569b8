#!/usr/bin/env python3
"""A node whose chain database was damaged while it was stopped (one byte of a block row
inverted in the file itself) comes up refusing: every request, /v1/status included, gets 503
LB_ECORRUPT naming the chain and block and what to do, the log says the same, `leben status`
fails with it, the database file is left exactly as it was, and `leben verify` (the full
replay, an independent check) finds damage in the same block. With the file restored the node
serves again. A fresh home (no chain files yet) starts normally."""

import os
import shutil
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Node, Tap, run_cli  # noqa: E402


def flip_in_file(db_path, height, column):
    """Invert one byte of `column` of block `height`, located in the file's bytes."""
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    blob = bytes(con.execute("SELECT %s FROM blocks WHERE height=?" % column,
                             (height,)).fetchone()[0])
    con.close()
    data = bytearray(open(db_path, "rb").read())
    for off in range(len(blob) // 2, len(blob) - 32, 53):
        piece = blob[off:off + 32]
        at = data.find(piece)
        if at >= 0 and data.find(piece, at + 1) < 0:
            data[at + 16] ^= 0xFF
            open(db_path, "r+b").write(data)
            return
    raise RuntimeError("no slice of block %d's %s is stored once in the file" % (height, column))


def main():
    t = Tap()
    node = Node()
    try:
        node.start()
        st, s = node.get("/v1/status")
        t.ok(st == 200 and s.get("serving") is True, "a fresh home starts and says it serves")
        # a few settlement blocks
        for i in range(3):
            hx = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "1"])[0]
            st, j = node.post_txs({"txs": [hx]})
            t.ok(st == 200 and node.wait_tx(j["results"][0]["id"]) is not None,
                 "transfer %d committed" % (i + 1))
        st, s = node.get("/v1/status")
        tip = s["chains"]["settlement"]["height"]
        node.stop()
        db = os.path.join(node.home, "chains", "settlement.db")
        good = db + ".good"
        con = sqlite3.connect(db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        shutil.copyfile(db, good)
        damaged_height = tip - 1
        flip_in_file(db, damaged_height, "body")
        before = open(db, "rb").read()

        node.start()
        where = "settlement chain, block %d" % damaged_height
        st, s = node.get("/v1/status")
        t.ok(st == 503 and s.get("serving") is False and s["error"]["code"] == "LB_ECORRUPT",
             "damaged: /v1/status answers 503 LB_ECORRUPT, serving false", (st, s))
        damage = s.get("damage", "") if isinstance(s, dict) else ""
        t.ok(where in damage and "Merkle root" in damage and "leben verify" in damage and
             "restore" in damage, "damaged: it names %s, what is wrong and what to do" % where,
             damage)
        for method, path, body in (("GET", "/v1/chains", None),
                                   ("GET", "/v1/chains/settlement/blocks/%d" % damaged_height, None),
                                   ("GET", "/v1/accounts/" + node.address("bob"), None),
                                   ("POST", "/v1/txs", {"txs": ["00"]})):
            st, j = node.http(method, path, body)[:2]
            t.ok(st == 503 and j["error"]["code"] == "LB_ECORRUPT" and where in j["error"]["message"],
                 "damaged: %s %s refused with LB_ECORRUPT" % (method, path), (st, j))
        t.ok(any(where in line and "refuses" in line for line in node.log),
             "damaged: the log names the block and says the node refuses")
        r = node.cli(["query", "status"])
        t.ok(r.returncode != 0 and where in r.stderr, "damaged: `leben query status` fails with the damage",
             (r.returncode, r.stderr[-300:]))
        node.stop()
        t.ok(open(db, "rb").read() == before, "damaged: the refusing node left the file unchanged")
        r = run_cli(["verify", "--home", node.home])
        t.ok(r.returncode != 0 and where in r.stderr,
             "leben verify (full replay) finds damage in the same block", r.stderr[-300:])

        for suffix in ("-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        shutil.copyfile(good, db)
        os.unlink(good)
        node.start()
        st, s = node.get("/v1/status")
        t.ok(st == 200 and s.get("serving") is True and s["chains"]["settlement"]["height"] == tip,
             "restored: the node serves again at the same height", (st, s))
    finally:
        node.cleanup()
    t.done()


if __name__ == "__main__":
    main()
