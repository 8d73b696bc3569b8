#!/usr/bin/env python3
"""The node's HTTP/JSON API through real HTTP against a real `leben node` process: every
endpoint, every refusal with its own error code and no state change, batches, 404/405/413,
header limits, malformed JSON, and a kill -9 at a random moment under load (seed printed;
LEBEN_TEST_SEED replays one) followed by a restart and `leben verify`."""

import http.client
import json
import os
import random
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Node, Tap, address_of, blake2b256, run_cli  # noqa: E402

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def err_code(j):
    return j.get("error", {}).get("code") if isinstance(j, dict) else None


def snapshot(node, names):
    """What a refused tx must not change: the accounts, chain heights, waiting txs."""
    st, chains = node.get("/v1/chains")
    return {"accounts": [node.account(n) for n in names], "chains": chains}


def main():
    t = Tap()
    node = Node()
    try:
        node.start()
        run(t, node)
        crash_restart(t, node)
    finally:
        node.cleanup()
    t.done()


def run(t, node):
    # ---- status, chains, blocks ------------------------------------------------------------
    st, status = node.get("/v1/status")
    t.eq(st, 200, "GET /v1/status answers 200")
    nid = status.get("network_id", "") if isinstance(status, dict) else ""
    t.ok(HEX64.match(nid or ""), "status has a 64-hex network_id", status)
    with open(os.path.join(node.home, "genesis.json"), "rb") as f:
        t.eq(nid, blake2b256(f.read(), "LEBEN-genesis-v1").hex(),
             "network_id is BLAKE2b-256 of genesis.json (computed independently)")

    st, chains = node.get("/v1/chains")
    t.eq(st, 200, "GET /v1/chains answers 200")
    t.ok(all(n in json.dumps(chains) for n in ("settlement", "directory", "business")),
         "chains lists settlement, directory and business", chains)

    for chain in ("settlement", "directory", "business"):
        st, b = node.get("/v1/chains/%s/blocks/0" % chain)
        t.ok(st == 200 and isinstance(b, dict), "GET genesis block of %s" % chain, b)
    st, b = node.get("/v1/chains/settlement/blocks/latest")
    t.eq(st, 200, "GET /v1/chains/settlement/blocks/latest answers 200")
    st, j = node.get("/v1/chains/settlement/blocks/999999")
    t.ok(st == 404 and err_code(j) == "LB_ENOTFOUND", "block past the tip: 404 LB_ENOTFOUND", (st, j))
    st, j = node.get("/v1/chains/nochain/blocks/0")
    t.ok(st == 404 and err_code(j) == "LB_ENOTFOUND", "unknown chain: 404 LB_ENOTFOUND", (st, j))
    for bad in ("abc", "-1", "01", "99999999999999999999"):
        st, j = node.get("/v1/chains/settlement/blocks/" + bad)
        t.ok(st == 400 and err_code(j) == "LB_EMALFORMED", "height '%s': 400 LB_EMALFORMED" % bad, (st, j))

    # ---- accounts -------------------------------------------------------------------------
    alice_key = node.key("alice")
    alice = alice_key["address"]
    t.eq(alice, address_of(bytes.fromhex(alice_key["public_key"])),
         "alice's address matches an independent bech32m encoder")
    st, acct = node.get("/v1/accounts/" + alice)
    t.eq(st, 200, "GET /v1/accounts/{alice} answers 200")
    nn = acct.get("chains", {}).get("settlement", {}).get("next_nonce") if isinstance(acct, dict) else None
    t.eq(nn, 0, "a fresh demo account's next settlement nonce is 0")
    typo = alice[:-1] + ("q" if alice[-1] != "q" else "p")
    st, j = node.get("/v1/accounts/" + typo)
    t.ok(st == 400 and err_code(j) == "LB_ECHECKSUM", "mistyped address: 400 LB_ECHECKSUM", (st, j))
    st, j = node.get("/v1/accounts/not-an-address")
    t.ok(st == 400 and err_code(j) in ("LB_EMALFORMED", "LB_ECHECKSUM"), "garbage address: 400", (st, j))

    # ---- submit one tx ----------------------------------------------------------------------
    before = snapshot(node, ["alice", "bob"])
    hx = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "2.5"])[0]
    st, j = node.post_txs({"tx": hx})
    t.ok(st == 202 and j.get("status") == "pending", "POST one transfer: 202 pending", (st, j))
    txid = j.get("id") if isinstance(j, dict) else None
    t.eq(txid, blake2b256(bytes.fromhex(hx)).hex(), "tx id is BLAKE2b-256 of the signed bytes")
    t.eq(j.get("chain"), "settlement", "reply names the chain")
    final = node.wait_tx(txid)
    t.ok(final is not None and final.get("status") == "committed", "transfer becomes committed", final)
    after = snapshot(node, ["alice", "bob"])
    t.ok(before["accounts"][1] != after["accounts"][1], "bob's account changed after the transfer",
         (before, after))
    st, j = node.get("/v1/txs/" + txid)
    t.ok(st == 200 and j.get("status") == "committed", "GET /v1/txs/{id} answers committed", j)
    st, j = node.get("/v1/txs/" + "00" * 32)
    t.ok(st == 404 and err_code(j) == "LB_ENOTFOUND", "unknown tx id: 404 LB_ENOTFOUND", (st, j))
    st, j = node.get("/v1/txs/xyz")
    t.ok(st == 400 and err_code(j) == "LB_EMALFORMED", "bad tx id: 400 LB_EMALFORMED", (st, j))

    # ---- proofs ---------------------------------------------------------------------------
    st, j = node.get("/v1/txs/%s/proof" % txid)
    t.ok(st == 200 and re.match(r"^[0-9a-f]+$", j.get("proof", "")), "GET proof answers hex", (st, j))
    t.eq(j.get("bytes"), len(j.get("proof", "")) // 2, "proof 'bytes' is its length")
    st, j = node.get("/v1/txs/%s/proof?anchor=nochain" % txid)
    t.ok(st == 400 and err_code(j) == "LB_EMALFORMED", "proof with a bad anchor: 400", (st, j))
    # A business block made after the settlement block anchors it.
    rec = node.sign("record", ["--from", "clinic", "--kind", "test.anchor", "--subject", "x"])[0]
    st, j = node.post_txs({"tx": rec})
    rid = j.get("id") if isinstance(j, dict) else None
    t.ok(st == 202 and node.wait_tx(rid) is not None, "a business tx is committed", (st, j))
    st, j = node.get("/v1/txs/%s/proof?anchor=business" % txid)
    t.ok(st == 200 and j.get("anchor") == "business" and j.get("proof"),
         "proof anchored in the business chain", (st, j))
    st, j = node.get("/v1/txs/%s/proof" % ("00" * 32))
    t.ok(st == 404, "proof of an unknown tx: 404", (st, j))

    # ---- refusals: each its own code, nothing changes --------------------------------------
    def refused(name, body, want_code, want_status, who=("alice", "bob")):
        snap = snapshot(node, list(who))
        st, j = node.post_txs(body)
        t.ok(st == want_status and err_code(j) == want_code,
             "%s: HTTP %d %s" % (name, want_status, want_code), (st, j))
        t.ok(bool(j.get("error", {}).get("message")) if isinstance(j, dict) else False,
             "%s: the refusal explains itself" % name, j)
        t.eq(snapshot(node, list(who)), snap, "%s: no state change" % name)

    good = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "1"])[0]
    raw = bytearray.fromhex(good)
    raw[-1] ^= 1  # the signature is the last 64 bytes
    refused("bad signature", {"tx": raw.hex()}, "LB_EBADSIG", 422)
    other_net = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "1",
                                       "--network-id", "11" * 32])[0]
    refused("signed for another network", {"tx": other_net}, "LB_EBADSIG", 422)
    wrong_chain = node.sign("raw", ["--from", "alice", "--chain", "business", "--type-id", "0x0102",
                                    "--payload", "00"])[0]
    refused("transfer type on the business chain", {"tx": wrong_chain}, "LB_EWRONGCHAIN", 422)
    nn = node.account("alice")["chains"]["settlement"]["next_nonce"]
    replay = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "3",
                                    "--nonce", str(nn - 1)])[0]
    refused("replayed nonce", {"tx": replay}, "LB_ENONCEUSED", 422)
    skip = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "3",
                                  "--nonce", str(nn + 5)])[0]
    refused("skipped nonce", {"tx": skip}, "LB_ENONCEGAP", 422)
    rich = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "1000000000000"])[0]
    refused("insufficient balance", {"tx": rich}, "LB_EFUNDS", 422)
    issue = node.sign("issue", ["--from", "alice", "--to", "alice", "--amount", "5"])[0]
    refused("issue by a key that is not a credit partner", {"tx": issue}, "LB_EUNAUTH", 403)
    refused("malformed tx bytes", {"tx": "00ff00"}, "LB_EMALFORMED", 400)
    refused("truncated tx", {"tx": good[:-2]}, "LB_EMALFORMED", 400)
    refused("trailing byte after the tx", {"tx": good + "00"}, "LB_EMALFORMED", 400)
    refused("not hex", {"tx": "zz"}, "LB_EMALFORMED", 400)
    refused("tx over 64 KiB", {"tx": good + "00" * 66000}, "LB_ETOOBIG", 413)
    snap = snapshot(node, ["alice", "bob"])
    st, j = node.post_txs([good + "00" * 66000])
    res = (j.get("results") or [{}])[0] if isinstance(j, dict) else {}
    t.ok(st == 200 and j.get("refused") == 1 and res.get("error", {}).get("code") == "LB_ETOOBIG",
         "tx over 64 KiB inside a batch: refused with LB_ETOOBIG", (st, j))
    t.eq(snapshot(node, ["alice", "bob"]), snap, "tx over 64 KiB inside a batch: no state change")
    unknown = node.sign("raw", ["--from", "alice", "--chain", "settlement", "--type-id", "0x01ff"])[0]
    refused("unknown tx type", {"tx": unknown}, "LB_EUNKNOWNTYPE", 422)
    expired = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "1",
                                     "--expires-at", "1000"])[0]
    refused("expired tx", {"tx": expired}, "LB_EEXPIRED", 422)
    refused("duplicate of a committed tx", {"tx": hx}, "LB_EDUPLICATE", 409)
    refused("malformed JSON", '{"tx": "00"', "LB_ESYNTAX", 400)
    st, j = node.post_txs('{"tx": "00",\n "x"')
    msg = j.get("error", {}).get("message", "") if isinstance(j, dict) else ""
    t.ok("line 2" in msg and "byte" in msg, "malformed JSON: the message gives the position", msg)
    refused("wrong body shape", {"txs": "00"}, "LB_ETYPE", 422)
    refused("empty batch", [], "LB_EINVALID", 422)

    # ---- batches --------------------------------------------------------------------------
    base = snapshot(node, ["alice", "bob"])
    batch = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "0.01", "--count", "300"])
    t.eq(len(batch), 300, "CLI signs 300 txs with consecutive nonces")
    t0 = time.time()
    st, j = node.post_txs({"txs": batch})
    t.ok(st == 200 and j.get("accepted") == 300 and j.get("refused") == 0,
         "POST a batch of 300: all accepted (%.0f ms)" % ((time.time() - t0) * 1000), (st, str(j)[:400]))
    ids = [r.get("id") for r in j.get("results", [])]
    t.eq(ids, [blake2b256(bytes.fromhex(h)).hex() for h in batch], "batch results are in order with ids")
    last = node.wait_tx(ids[-1]) if ids else None
    t.ok(last is not None and last.get("status") == "committed", "last tx of the batch is committed", last)
    missing = [i for i in ids if node.get("/v1/txs/" + i)[1].get("status") != "committed"]
    t.eq(missing, [], "every tx of the batch is committed")
    t.ok(snapshot(node, ["bob"]) != {"accounts": base["accounts"][1:], "chains": base["chains"]},
         "the batch changed bob's account")

    # A mixed batch: per-item results, the good ones admitted, the bad ones refused in place.
    nxt = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "0.01"])[0]
    nn = node.account("alice")["chains"]["settlement"]["next_nonce"]
    gap = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "0.01",
                                 "--nonce", str(nn + 9)])[0]
    st, j = node.post_txs([nxt, "zz", batch[0], gap])
    res = j.get("results", []) if isinstance(j, dict) else []
    codes = [r.get("error", {}).get("code") if r.get("status") == "refused" else r.get("status") for r in res]
    t.eq((st, codes), (200, ["pending", "LB_EMALFORMED", "LB_EDUPLICATE", "LB_ENONCEGAP"]),
         "mixed batch: per-tx status and error codes")
    t.eq((j.get("accepted"), j.get("refused")), (1, 3), "mixed batch counts")
    t.eq([r.get("index") for r in res], [0, 1, 2, 3], "mixed batch results carry their index")
    node.wait_tx(res[0].get("id")) if res else None
    # Escaped JSON strings take the general parser and work the same.
    esc = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "0.01"])[0]
    body = '{"txs":["\\u00%02x%s"]}' % (ord(esc[0]), esc[1:])
    st, j = node.post_txs(body)
    t.ok(st == 200 and j.get("accepted") == 1, "batch with JSON escapes is accepted", (st, j))
    st, j = node.post_txs(["00"] * 10001)
    t.ok(st == 413 and err_code(j) == "LB_ETOOBIG", "batch over 10000 txs: 413 LB_ETOOBIG", (st, j))

    # ---- routing and limits ---------------------------------------------------------------
    st, j = node.get("/v1/nothing")
    t.ok(st == 404 and err_code(j) == "LB_ENOTFOUND", "unknown path: 404 with a JSON error", (st, j))
    st, j = node.get("/v1/status/")
    t.eq(st, 404, "trailing slash is a different (unknown) path")
    st, j, h = node.http("POST", "/v1/status", "{}")
    t.ok(st == 405 and "GET" in h.get("Allow", ""), "POST /v1/status: 405 with Allow: GET", (st, j, h))
    st, j, h = node.http("DELETE", "/v1/txs")
    t.ok(st == 405 and "POST" in h.get("Allow", ""), "DELETE /v1/txs: 405 with Allow: POST", (st, j, h))
    st, j, h = node.http("GET", "/v1/txs")
    t.eq(st, 405, "GET /v1/txs: 405")

    limit = status.get("api", {}).get("max_body", 8 << 20)
    # Declared too large: refused from the headers, before any body is read.
    s = socket.create_connection(("127.0.0.1", node.port))
    s.sendall(("POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\n\r\n" % (limit + 1)).encode())
    s.settimeout(10)
    reply = s.recv(65536).decode("utf-8", "replace")
    s.close()
    t.ok(reply.startswith("HTTP/1.1 413") and "LB_ETOOBIG" in reply,
         "Content-Length over max_body: 413 before the body is sent", reply[:300])
    # Streamed (chunked) over the limit: refused too.
    c = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
    chunk = b'"' + b"a" * (1 << 20)

    def gen():
        yield b'{"txs":['
        for _ in range(limit // len(chunk) + 2):
            yield chunk

    st = None
    try:
        c.request("POST", "/v1/txs", body=gen(), headers={"Content-Type": "application/json"},
                  encode_chunked=True)
        r = c.getresponse()
        st, data = r.status, r.read().decode()
    except (ConnectionError, BrokenPipeError) as e:
        data = repr(e)
    t.ok(st == 413 and "LB_ETOOBIG" in data, "chunked body over max_body: 413", (st, data[:200]))
    c.close()
    st, j, h = node.http("GET", "/v1/status", headers={"X-Big": "a" * 100000})
    t.ok(st in (413, 431), "100 kB of headers: refused with %s" % st, (st, j))
    st, j = node.get("/v1/status")
    t.eq(st, 200, "the node still answers after all refusals")


def crash_restart(t, node):
    """Submit batches from a thread without pause, kill -9 the node while the load is still
    running and blocks are being committed, restart: every tx reported committed before the
    kill is still committed, and `leben verify` passes."""
    txs = node.sign("transfer", ["--from", "bob", "--to", "alice", "--amount", "0.001",
                                 "--count", "20000"])
    submitted = []
    stop = threading.Event()

    def load():
        for i in range(0, len(txs), 100):
            if stop.is_set():
                return
            try:
                st, j = node.post_txs({"txs": txs[i:i + 100]})
            except Exception:
                return
            if st == 200:
                submitted.extend(r["id"] for r in j["results"] if r.get("status") == "pending")
            time.sleep(0.01)  # keep the load going for a few seconds

    th = threading.Thread(target=load)
    th.start()
    committed = []
    deadline = time.time() + 60
    # Follow commits in submission order while the load runs; kill at a random moment once
    # a random number of them are in (the seed is printed so a failure can be replayed).
    seed = int(os.environ.get("LEBEN_TEST_SEED") or time.time_ns() % 1000000)
    rng = random.Random(seed)
    want = rng.randint(1, 400)
    print("# crash test: seed %d, kill after %d reported commits" % (seed, want))
    while time.time() < deadline and len(committed) < want and th.is_alive():
        for txid in list(submitted[len(committed):len(committed) + 50]):
            st, j = node.get("/v1/txs/" + txid)
            if st == 200 and j.get("status") == "committed":
                committed.append(txid)
            else:
                break
    time.sleep(rng.random() * 0.2)
    load_running = th.is_alive()
    node.kill9()
    stop.set()
    th.join()
    t.ok(len(committed) > 0 and load_running,
         "crash test: kill -9 while the load was running (%d txs reported committed, %d admitted)"
         % (len(committed), len(submitted)))
    node.start()
    lost = []
    for txid in committed:
        st, j = node.get("/v1/txs/" + txid)
        if st != 200 or j.get("status") != "committed":
            lost.append((txid, st, j))
    t.eq(lost, [], "after restart every tx reported committed is still committed")
    nn = node.account("bob")["chains"]["settlement"]["nonce"]
    t.ok(nn >= len(committed), "bob's committed nonce (%d) covers every reported commit" % nn)
    # The node works after the crash: a new tx commits.
    hx = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "0.5"])[0]
    st, j = node.post_txs({"tx": hx})
    ok = st == 202 and node.wait_tx(j.get("id")) is not None
    t.ok(ok, "a new tx commits after the restart", (st, j))
    node.stop()
    r = run_cli(["verify", "--home", node.home])
    t.ok(r.returncode == 0, "leben verify passes after the crash", r.stdout[-800:] + r.stderr[-800:])


if __name__ == "__main__":
    main()
