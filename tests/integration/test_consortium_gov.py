#!/usr/bin/env python3
"""Consortium governance and signed checkpoints through a real `leben node` (solo orderer):
genesis members, `leben governance propose|vote|members` admitting and removing a member by a
two-thirds vote, refusals (non-member, double vote, unknown and expired proposals) that change
nothing, the node publishing a checkpoint every K blocks that matches its own blocks, a
non-member's checkpoint refused, a member's conflicting checkpoint (crafted and signed with
the member's key) raising the alarm in /v1/status and the log naming the member, and
`leben verify` accepting honest checkpoints, naming the member of a conflicting one, and
catching a checkpoint tampered with on disk."""

import json
import os
import shutil
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Node, Tap, address_of, run_cli, uvarint  # noqa: E402

K = 3  # checkpoint_interval


def checkpoint_payload(chain, height, block_hash, app_hash):
    return bytes([chain]) + uvarint(height) + bytes.fromhex(block_hash) + bytes.fromhex(app_hash)


CHAINS = {"settlement": 0, "directory": 1, "business": 2}


def gov(node, args):
    r = node.cli(["governance"] + args)
    return r


def gov_json(node, args):
    r = gov(node, args + ["--json"])
    try:
        return r.returncode, json.loads(r.stdout), r.stderr
    except ValueError:
        return r.returncode, None, r.stderr


def members(node):
    st, j = node.get("/v1/members")
    assert st == 200, (st, j)
    return j


def member_names(node):
    return sorted(m["name"] for m in members(node)["members"])


def wait_until(pred, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return None


def business_txs(node):
    """Every tx of every business block, with its block height."""
    st, s = node.get("/v1/status")
    top = s["chains"]["business"]["height"]
    out = []
    for h in range(1, top + 1):
        st, b = node.get("/v1/chains/business/blocks/%d" % h)
        for t in b["txs"]:
            t["_height"] = h
            out.append(t)
    return out


def main():
    t = Tap()
    node = Node(demo=True)
    try:
        run(t, node)
    finally:
        node.cleanup()
    t.done()


def run(t, node):
    for name in ("carol",):
        r = run_cli(["keys", "new", name, "--home", node.home])
        t.eq(r.returncode, 0, "leben keys new %s" % name)
    addr = {n: node.address(n) for n in ("node", "alice", "bob", "carol", "bank")}
    t.eq(addr["alice"], address_of(bytes.fromhex(node.key("alice")["public_key"])),
         "alice's address matches an independent encoder")
    # genesis: three members, one given by public key
    gpath = os.path.join(node.home, "genesis.json")
    g = json.load(open(gpath))
    g["members"] = [
        {"name": "Node A", "address": addr["node"], "kinds": ["data", "audit"]},
        {"name": "Alice Hospital", "public_key": node.key("alice")["public_key"],
         "kinds": "computing"},
        {"name": "Bob Institute", "address": addr["bob"], "kinds": "algorithm"},
    ]
    json.dump(g, open(gpath, "w"), indent=2)
    cpath = os.path.join(node.home, "config.json")
    c = json.load(open(cpath))
    c["checkpoint_interval"] = K
    json.dump(c, open(cpath, "w"), indent=2)
    node.start()

    m = members(node)
    t.eq((m["count"], m["threshold"]), (3, 2), "three genesis members, two votes needed")
    t.eq(sorted((x["name"], x["address"], x["kinds"]) for x in m["members"]),
         sorted([("Node A", addr["node"], "data,audit"),
                 ("Alice Hospital", addr["alice"], "computing"),
                 ("Bob Institute", addr["bob"], "algorithm")]),
         "GET /v1/members names each member with its address and kinds")
    rc, cj, _ = gov_json(node, ["members"])
    t.eq((rc, cj), (0, m), "leben governance members --json is the same list")
    r = gov(node, ["members"])
    t.ok(r.returncode == 0 and "Alice Hospital" in r.stdout and "3 members" in r.stdout,
         "leben governance members prints the list for a person", r.stdout + r.stderr)
    st, s = node.get("/v1/status")
    t.ok(s.get("consortium", {}).get("member") is True and
         s["consortium"]["member_name"] == "Node A" and
         s["consortium"]["checkpoint_interval"] == K,
         "/v1/status says this node is member 'Node A' checkpointing every %d blocks" % K,
         s.get("consortium"))

    # ---- refusals before anything is proposed -------------------------------------------
    before = members(node)
    r = gov(node, ["propose", "admit", "--member", "carol", "--name", "Carol Lab",
                   "--kinds", "data", "--from", "bank"])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr and "not a consortium member" in r.stderr,
         "a non-member's proposal is refused (LB_EUNAUTH)", r.stderr)
    r = gov(node, ["propose", "admit", "--member", "carol", "--name", "Carol Lab",
                   "--kinds", "storage", "--from", "alice"])
    t.ok(r.returncode == 2 and "storage" in r.stderr, "an unknown kind is a usage error",
         r.stderr)
    r = gov(node, ["propose", "remove", "--member", "bank", "--from", "alice"])
    t.ok(r.returncode == 1 and "LB_ENOTFOUND" in r.stderr,
         "removing a non-member is refused (LB_ENOTFOUND)", r.stderr)
    t.eq(members(node), before, "refused proposals changed nothing")

    # ---- admit carol: alice proposes, bob agrees ------------------------------------------
    rc, pj, err = gov_json(node, ["propose", "admit", "--member", "carol", "--name", "Carol Lab",
                                  "--kinds", "data,computing", "--from", "alice", "--wait"])
    t.ok(rc == 0 and pj and pj.get("status") == "committed", "alice's proposal is committed",
         err)
    pid = pj["id"] if pj else "00" * 32
    m = members(node)
    props = m["proposals"]
    t.ok(len(props) == 1 and props[0]["id"] == pid and props[0]["yes"] == 1 and
         props[0]["needed"] == 2 and props[0]["status"] == "open" and m["count"] == 3,
         "the proposal is open with the proposer's yes vote, 1 of 2", m)

    before = members(node)
    r = gov(node, ["vote", pid, "yes", "--from", "bank"])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr, "a non-member's vote is refused",
         r.stderr)
    r = gov(node, ["vote", pid, "yes", "--from", "alice"])
    t.ok(r.returncode == 1 and "LB_EDUPLICATE" in r.stderr, "a second vote is refused",
         r.stderr)
    r = gov(node, ["vote", "ab" * 32, "yes", "--from", "bob"])
    t.ok(r.returncode == 1 and "LB_ENOTFOUND" in r.stderr, "a vote on an unknown proposal is refused",
         r.stderr)
    r = gov(node, ["propose", "admit", "--member", "carol", "--name", "Carol Lab",
                   "--kinds", "data", "--from", "bob"])
    t.ok(r.returncode == 1 and "LB_EEXISTS" in r.stderr and pid in r.stderr,
         "a second proposal about carol while one is open is refused", r.stderr)
    t.eq(members(node), before, "refused votes changed nothing")

    r = gov(node, ["vote", pid, "yes", "--from", "bob", "--wait"])
    t.ok(r.returncode == 0 and "Committed" in r.stdout, "bob votes yes", r.stdout + r.stderr)
    m = members(node)
    t.ok(m["count"] == 4 and m["threshold"] == 3 and m["proposals"] == [] and
         any(x["name"] == "Carol Lab" and x["address"] == addr["carol"] and
             x["kinds"] == "data,computing" for x in m["members"]),
         "two of three: Carol Lab is admitted; four members now need three votes", m)

    # ---- remove bob: alice proposes, bob says no, carol and the node say yes --------------
    rc, pj, err = gov_json(node, ["propose", "remove", "--member", "bob", "--from", "alice",
                                  "--wait"])
    pid2 = pj["id"] if pj else "00" * 32
    r1 = gov(node, ["vote", pid2, "no", "--from", "bob", "--wait"])
    r2 = gov(node, ["vote", pid2, "yes", "--from", "carol", "--wait"])
    m = members(node)
    t.ok(rc == 0 and r1.returncode == 0 and r2.returncode == 0 and m["count"] == 4 and
         m["proposals"][0]["yes"] == 2 and m["proposals"][0]["no"] == 1,
         "removal of bob: 2 yes, 1 no, still open", m)
    r = gov(node, ["vote", pid2, "yes", "--from", "node", "--wait"])
    m = members(node)
    t.ok(r.returncode == 0 and m["count"] == 3 and
         addr["bob"] not in [x["address"] for x in m["members"]],
         "the node's yes makes three of four: bob is removed", (r.stderr, m))
    r = gov(node, ["propose", "admit", "--member", "bank", "--name", "Bank", "--kinds", "audit",
                   "--from", "bob"])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr, "bob, removed, may no longer propose",
         r.stderr)

    # ---- an expired proposal ---------------------------------------------------------------
    rc, pj, err = gov_json(node, ["propose", "admit", "--member", "bank", "--name", "Bank",
                                  "--kinds", "audit", "--from", "alice", "--expires-in", "3",
                                  "--wait"])
    t.ok(rc == 0 and pj and pj.get("status") == "committed",
         "a proposal with votes counting for 3 more blocks is committed", err)
    pid3 = pj["id"] if pj else "00" * 32
    exp = members(node)["proposals"][0]["expires_height"] if rc == 0 else 0
    i = 0
    while node.get("/v1/status")[1]["chains"]["business"]["height"] <= exp and i < 10:
        node.cli(["tx", "record", "--from", "carol", "--kind", "test.tick", "--subject",
                  "tick-%d" % i, "--wait"])
        i += 1
    st, s = node.get("/v1/status")
    t.ok(s["chains"]["business"]["height"] > exp, "the business chain went past the expiry")
    before = members(node)
    r = gov(node, ["vote", pid3, "yes", "--from", "carol"])
    t.ok(r.returncode == 1 and "LB_EEXPIRED" in r.stderr, "a vote on an expired proposal is refused",
         r.stderr)
    t.eq(members(node), before, "the expired vote changed nothing")

    # ---- checkpoints every K blocks ---------------------------------------------------------
    for i in range(2 * K):
        node.cli(["tx", "transfer", "--from", "alice", "--to", "bob", "--amount", "1", "--wait"])
    st, s = node.get("/v1/status")
    sh = s["chains"]["settlement"]["height"]
    t.ok(sh >= 2 * K, "settlement reached height %d" % sh)
    want = {("settlement", h) for h in range(K, sh + 1, K)}

    def node_checkpoints():
        got = {}
        for tx in business_txs(node):
            if tx.get("type") == "checkpoint" and tx["sender"] == addr["node"] and tx["valid"]:
                p = tx["payload"]
                got[(p["chain"], p["height"])] = p
        return got if want <= set(got) else None

    got = wait_until(node_checkpoints) or {}
    t.ok(want <= set(got), "the node published a checkpoint of settlement blocks %s" %
         sorted(h for _, h in want), sorted(got))
    t.ok(all(h % K == 0 for _, h in got), "every checkpoint is at a multiple of %d" % K,
         sorted(got))
    ok = True
    for (chain, h), p in got.items():
        st, b = node.get("/v1/chains/%s/blocks/%d" % (chain, h))
        ok = ok and b["hash"] == p["block_hash"] and b["app_hash"] == p["app_hash"]
    t.ok(ok and got, "each checkpoint holds the block hash and app hash of that block")
    mine = [tx for tx in business_txs(node)
            if tx.get("type") == "checkpoint" and tx["sender"] == addr["node"]]
    t.ok(all(tx["valid"] for tx in mine) and
         not any("not published" in line for line in node.log),
         "each checkpoint was published once, none refused", [tx for tx in mine
                                                             if not tx["valid"]])
    st, s = node.get("/v1/status")
    t.ok(s["consortium"]["alarm_count"] == 0 and s["consortium"]["checked"] >= len(got),
         "no alarm; the node checked its own checkpoints", s["consortium"])
    r = run_cli(["verify", "--json", "--home", node.home])
    vj = json.loads(r.stdout) if r.stdout.strip() else {}
    t.ok(r.returncode == 0 and vj.get("ok") is True and vj.get("checkpoints", 0) >= len(got),
         "leben verify: chains and %d checkpoints check out" % len(got), r.stdout + r.stderr)

    # ---- a non-member's checkpoint ----------------------------------------------------------
    st, b2 = node.get("/v1/chains/settlement/blocks/2")
    payload = checkpoint_payload(0, 2, b2["hash"], b2["app_hash"]).hex()
    hx = node.sign("raw", ["--from", "bank", "--chain", "business", "--type-id", "0x0332",
                           "--payload", payload])[0]
    st, j = node.post_txs({"tx": hx})
    t.ok(st == 403 and j["error"]["code"] == "LB_EUNAUTH",
         "a non-member's checkpoint is refused (LB_EUNAUTH)", (st, j))

    # ---- a member's conflicting checkpoint ---------------------------------------------------
    bad = ("%02x" % (int(b2["hash"][:2], 16) ^ 0xFF)) + b2["hash"][2:]
    payload = checkpoint_payload(0, 2, bad, b2["app_hash"]).hex()
    hx = node.sign("raw", ["--from", "alice", "--chain", "business", "--type-id", "0x0332",
                           "--payload", payload])[0]
    st, j = node.post_txs({"tx": hx})
    fin = node.wait_tx(j.get("id", "")) if st == 202 else None
    t.ok(fin and fin["status"] == "committed",
         "a member's checkpoint is recorded whatever it says (consensus does not judge it)",
         (st, j, fin))

    def alarm():
        st, s = node.get("/v1/status")
        a = s["consortium"]["alarms"]
        return a if a else None

    alarms = wait_until(alarm, 30) or []
    a = alarms[0] if alarms else {}
    t.ok(len(alarms) == 1 and a.get("member_name") == "Alice Hospital" and
         a.get("member") == addr["alice"] and a.get("chain") == "settlement" and
         a.get("height") == 2 and a.get("their_block_hash") == bad and
         a.get("own_block_hash") == b2["hash"] and "Alice Hospital" in a.get("message", ""),
         "/v1/status raises an alarm naming Alice Hospital and both hashes", alarms)
    logged = wait_until(lambda: any("CHECKPOINT CONFLICT" in line and "Alice Hospital" in line
                                    and addr["alice"] in line for line in node.log), 10)
    t.ok(logged, "the log names Alice Hospital in a CHECKPOINT CONFLICT line",
         "".join(node.log[-10:]))

    r = run_cli(["verify", "--home", node.home])
    t.ok(r.returncode == 1 and "checkpoint mismatch" in r.stderr and
         "Alice Hospital" in r.stderr and addr["alice"] in r.stderr and
         "settlement block 2" in r.stderr,
         "leben verify replays the chains (same app hashes) and names Alice Hospital",
         r.stdout + r.stderr)

    # ---- a checkpoint tampered with on disk --------------------------------------------------
    node.stop()
    copy = node.home + "-tampered"
    shutil.copytree(node.home, copy)
    try:
        p = got.get(("settlement", K))
        needle = bytes.fromhex(p["block_hash"]) if p else b"\x00" * 32
        db = sqlite3.connect(os.path.join(copy, "chains", "business.db"))
        hit = None
        for h, body in db.execute("SELECT height, body FROM blocks"):
            i = body.find(needle)
            if i >= 0:
                hit = h
                tampered = bytearray(body)
                tampered[i] ^= 0x01
                db.execute("UPDATE blocks SET body = ? WHERE height = ?", (bytes(tampered), h))
                db.commit()
                break
        db.close()
        r = run_cli(["verify", "--home", copy])
        t.ok(hit is not None and r.returncode == 1 and
             ("business chain, block %d" % hit) in r.stderr,
             "leben verify catches the checkpoint of settlement block %d edited in business "
             "block %s" % (K, hit), r.stdout + r.stderr)
    finally:
        shutil.rmtree(copy, ignore_errors=True)


if __name__ == "__main__":
    main()
