#!/usr/bin/env python3
"""The client commands of `leben` (tx, query, proof) against a real node: every tx kind
through the CLI with balances checked through the API, readable and JSON output, refusals
with their code and advice, proofs fetched and checked offline (and a tampered proof
refused), help texts, and the advice given when no node is running."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Tap, blake2b256, free_port, run_cli, run_node  # noqa: E402

M = 1000000  # micro-units per credit


def bal(acct, asset):
    """Balance of an account JSON (micro-units), wherever the node puts it."""
    for path in (("balances", asset), (asset,), ("chains", "settlement", "balances", asset),
                 ("chains", "settlement", asset)):
        v = acct
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
        if isinstance(v, int):
            return v
    raise KeyError("no %s balance in %r" % (asset, acct))


def fee_of(txjson):
    v = txjson.get("fee")
    if v is None:
        v = txjson.get("tx", {}).get("fee", 0)
    return v


def main():
    t = Tap()
    for cmd in ("tx", "query", "proof"):
        r = run_cli([cmd, "--help"])
        t.ok(r.returncode == 0 and "usage: leben " + cmd in r.stdout and "--home" in r.stdout,
             "leben %s --help" % cmd, r.stderr)
    r = run_cli(["tx", "nosuchkind", "--from", "x"])
    t.ok(r.returncode == 2 and "leben tx --help" in r.stderr, "unknown tx kind: usage error", r.stderr)
    r = run_cli(["tx", "transfer", "--bogus"])
    t.ok(r.returncode == 2 and "--bogus" in r.stderr, "unknown option: usage error", r.stderr)
    port = free_port()
    r = run_cli(["query", "status", "--node", "http://127.0.0.1:%d" % port])
    t.ok(r.returncode == 1 and "is the node running" in r.stderr and "leben node --home" in r.stderr,
         "no node: says how to start it", r.stderr)

    run_node(run, tmp="leben-cli-", t=t)


def run(t, node, d):
    alice, bob = node.address("alice"), node.address("bob")

    # ---- query --------------------------------------------------------------------------
    r, st = node.cli_json(["query", "status"])
    t.ok(r.returncode == 0 and st and len(st.get("network_id", "")) == 64, "query status --json", r.stderr)
    r = node.cli(["query", "chains"])
    t.ok(r.returncode == 0 and "settlement" in r.stdout and "business" in r.stdout, "query chains", r.stderr)
    r, a0 = node.cli_json(["query", "account", "alice"])
    t.ok(r.returncode == 0 and a0 == node.account("alice"), "query account KEYNAME = the API's account", r.stderr)
    r = node.cli(["query", "account", alice])
    t.ok(r.returncode == 0 and alice in r.stdout, "query account ADDRESS, readable", r.stderr)
    asc = bal(a0, "asc")
    text = "%d.%06d" % (asc // M, asc % M)
    text = text.rstrip("0").rstrip(".")
    t.ok(text in r.stdout, "readable account shows the ASC balance as a decimal (%s)" % text, r.stdout)
    r = node.cli(["query", "account", alice[:-1] + ("q" if alice[-1] != "q" else "p")])
    t.ok(r.returncode == 1 and "checksum" in r.stderr.lower(), "query a mistyped address: checksum error", r.stderr)
    r = node.cli(["query", "block", "settlement", "0"])
    t.ok(r.returncode == 0, "query block settlement 0", r.stderr)
    r = node.cli(["query", "block", "settlement", "99999"])
    t.ok(r.returncode == 1 and "LB_ENOTFOUND" in r.stderr, "query a missing block: LB_ENOTFOUND", r.stderr)

    # ---- transfer with --wait; balances move by amount (+ fee) ------------------------------
    b0 = node.account("bob")
    r = node.cli(["tx", "transfer", "--from", "alice", "--to", "bob", "--amount", "1.5", "--memo", "lab fees", "--wait"])
    t.ok(r.returncode == 0 and "Committed in block" in r.stdout, "tx transfer --wait commits", r.stdout + r.stderr)
    m = re.search(r"tx ([0-9a-f]{64})", r.stdout)
    txid = m.group(1) if m else ""
    a1, b1 = node.account("alice"), node.account("bob")
    t.eq(bal(b1, "asc") - bal(b0, "asc"), 1500000, "bob received exactly 1.5 ASC")
    st, txj = node.get("/v1/txs/" + txid)
    fee = fee_of(txj) if isinstance(txj, dict) else 0
    t.eq(bal(a0, "asc") - bal(a1, "asc"), 1500000, "alice paid exactly 1.5 ASC")
    t.eq(bal(a0, "csc") - bal(a1, "csc"), fee, "alice paid the fee in CSC (%d micro)" % fee)
    t.eq(a1["chains"]["settlement"]["next_nonce"], a0["chains"]["settlement"]["next_nonce"] + 1,
         "alice's settlement nonce advanced by one")
    r, j = node.cli_json(["query", "tx", txid])
    t.ok(r.returncode == 0 and j.get("status") == "committed", "query tx ID --json: committed", r.stderr)

    # ---- issue: credit partner only ---------------------------------------------------------
    a1 = node.account("alice")
    r = node.cli(["tx", "issue", "--from", "bank", "--to", alice, "--amount", "10", "--wait"])
    t.ok(r.returncode == 0, "tx issue by the credit partner", r.stdout + r.stderr)
    t.eq(bal(node.account("alice"), "asc") - bal(a1, "asc"), 10 * M, "issue added 10 ASC to alice")
    before = node.account("alice")
    r = node.cli(["tx", "issue", "--from", "alice", "--to", "alice", "--amount", "10"])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr and "hint:" in r.stderr,
         "tx issue by alice: refused LB_EUNAUTH with a hint", r.stderr)
    t.eq(node.account("alice"), before, "refused issue changed nothing")
    r = node.cli(["tx", "transfer", "--from", "alice", "--to", "bob", "--amount", "999999999"])
    t.ok(r.returncode == 1 and "LB_EFUNDS" in r.stderr, "transfer over the balance: LB_EFUNDS", r.stderr)
    r = node.cli(["tx", "transfer", "--from", "alice", "--to", "bob", "--amount", "1", "--nonce", "0"])
    t.ok(r.returncode == 1 and "LB_ENONCEUSED" in r.stderr, "reused --nonce: LB_ENONCEUSED", r.stderr)
    r = node.cli(["tx", "transfer", "--from", "alice", "--to", "bob", "--amount", "1.0000001"])
    t.ok(r.returncode == 2 and "--amount" in r.stderr, "amount with 7 decimals: usage error", r.stderr)
    r = node.cli(["tx", "transfer", "--from", "alice", "--to", "nobody", "--amount", "1"])
    t.ok(r.returncode == 1 and "keys list" in r.stderr, "unknown recipient name: says where keys are", r.stderr)

    # ---- CSC: transfer, convert, burn --------------------------------------------------------
    a = node.account("alice")
    csc = bal(a, "csc")
    if csc >= 3 * M:
        r = node.cli(["tx", "transfer", "--from", "alice", "--to", "bob", "--asset", "csc", "--amount", "1", "--wait", "--json"])
        t.ok(r.returncode == 0, "tx transfer --asset csc", r.stderr)
        b2 = node.account("bob")
        t.ok(bal(b2, "csc") > bal(b1, "csc"), "bob received CSC")
        a = node.account("alice")
        r = node.cli(["tx", "burn", "--from", "alice", "--amount", "0.5", "--wait"])
        t.ok(r.returncode == 0, "tx burn", r.stdout + r.stderr)
        a2 = node.account("alice")
        t.ok(bal(a, "csc") - bal(a2, "csc") >= 500000, "burn removed at least 0.5 CSC", (a, a2))
        r = node.cli(["tx", "convert", "--from", "alice", "--amount", "1", "--wait"])
        t.ok(r.returncode == 0, "tx convert", r.stdout + r.stderr)
        a3 = node.account("alice")
        t.ok(bal(a3, "asc") > bal(a2, "asc") and bal(a3, "csc") < bal(a2, "csc"),
             "convert turned CSC into ASC", (a2, a3))
    else:
        t.ok(False, "alice has CSC in the demo genesis for the CSC tests", a)

    # ---- business and directory chains -----------------------------------------------------
    r = node.cli(["tx", "identity", "--from", "clinic", "--role", "provider", "--name", "St. Anna Clinic",
                  "--meta", '{"city":"Basel"}', "--wait"])
    t.ok(r.returncode == 0, "tx identity --role provider", r.stdout + r.stderr)
    acct = json.dumps(node.account("clinic"))
    t.ok("St. Anna Clinic" in acct and "provider" in acct, "the clinic's identity shows in its account", acct[:400])
    r = node.cli(["tx", "identity", "--from", "clinic", "--role", "surgeon", "--name", "x"])
    t.ok(r.returncode == 2 and "knowledge-sharer" in r.stderr, "unknown role: lists the roles", r.stderr)
    r = node.cli(["tx", "record", "--from", "clinic", "--kind", "consent.viewed", "--subject", "patient-42",
                  "--data", "viewed by dr. x", "--wait"])
    t.ok(r.returncode == 0, "tx record", r.stdout + r.stderr)

    data_file = os.path.join(d, "scan.dcm")
    with open(data_file, "wb") as f:
        f.write(b"pretend this is a DICOM file\n" * 100)
    nn = node.account("clinic")["chains"]["directory"]["next_nonce"]
    r = node.cli(["tx", "asset-register", "--from", "clinic", "--content-file", data_file,
                  "--meta", '{"modality":"CT"}', "--wait", "--json"])
    t.ok(r.returncode == 0, "tx asset-register --content-file", r.stdout + r.stderr)
    with open(data_file, "rb") as f:
        content = blake2b256(f.read()).hex()
    t.ok(content in r.stdout, "the registered content hash is BLAKE2b-256 of the file", r.stdout[:600])
    clinic_addr = bytes(node_addr_bytes(node, "clinic"))
    asset_id = blake2b256(clinic_addr + nn.to_bytes(8, "big"), "LEBEN-asset-v1").hex()
    r = node.cli(["tx", "asset-update", "--from", "clinic", "--id", asset_id, "--content-hash", "ab" * 32, "--wait"])
    t.ok(r.returncode == 0, "tx asset-update of the registered asset", r.stdout + r.stderr)
    r = node.cli(["tx", "asset-retire", "--from", "bob", "--id", asset_id, "--reason", "not mine"])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr, "asset-retire by another account: LB_EUNAUTH", r.stderr)
    r = node.cli(["tx", "asset-retire", "--from", "clinic", "--id", asset_id, "--reason", "superseded", "--wait"])
    t.ok(r.returncode == 0, "tx asset-retire by its owner", r.stdout + r.stderr)
    os.unlink(data_file)

    # ---- batch through the CLI ---------------------------------------------------------------
    r = node.cli(["tx", "transfer", "--from", "alice", "--to", "bob", "--amount", "0.001", "--count", "50", "--wait"])
    t.ok(r.returncode == 0 and "50 accepted, 0 refused" in r.stdout, "tx --count 50 sends one batch", r.stdout + r.stderr)

    # ---- proofs ------------------------------------------------------------------------------
    # A later business block anchors the settlement block of txid.
    node.cli(["tx", "record", "--from", "clinic", "--kind", "test.anchor", "--subject", "y", "--wait"])
    pf = os.path.join(d, "transfer.proof")
    r = node.cli(["proof", "get", txid, "-o", pf])
    t.ok(r.returncode == 0 and os.path.getsize(pf) > 64, "proof get -o FILE writes a binary proof", r.stderr)
    r = run_cli(["proof", "verify", pf])
    t.ok(r.returncode == 0 and txid in r.stdout and "settlement" in r.stdout,
         "proof verify (offline) names the tx and its chain", r.stdout + r.stderr)
    r = run_cli(["proof", "verify", pf, "--json"])
    try:
        info = json.loads(r.stdout)
    except ValueError:
        info = {}
    t.ok(r.returncode == 0 and info.get("valid") is True and info.get("tx_id") == txid and info.get("tx_valid") is True,
         "proof verify --json: valid, right tx, applied", r.stdout + r.stderr)
    st, blk = node.get("/v1/chains/settlement/blocks/%d" % info.get("height", 0))
    t.ok(st == 200 and info.get("block_hash") in json.dumps(blk), "the proven block hash is the node's block hash",
         (info, str(blk)[:300]))
    prop = info.get("proposer", "")
    r = run_cli(["proof", "verify", pf, "--proposer", prop])
    t.ok(r.returncode == 0, "proof verify --proposer with the block signer's key", r.stderr)
    r = run_cli(["proof", "verify", pf, "--proposer", "ab" * 32])
    t.ok(r.returncode == 1 and "NOT a valid proof" in r.stderr, "proof verify with another proposer key fails", r.stderr)
    with open(pf, "rb") as f:
        data = bytearray(f.read())
    for pos in (len(data) // 3, len(data) - 1):
        bad = bytearray(data)
        bad[pos] ^= 0x40
        bf = os.path.join(d, "bad.proof")
        with open(bf, "wb") as f:
            f.write(bad)
        r = run_cli(["proof", "verify", bf])
        t.ok(r.returncode == 1 and "NOT a valid proof" in r.stderr, "tampered proof (byte %d) is refused" % pos,
             r.stdout + r.stderr)
    r = node.cli(["proof", "get", txid, "--anchor", "business"])
    hexproof = r.stdout.strip()
    hf = os.path.join(d, "anchored.hex")
    with open(hf, "w") as f:
        f.write(hexproof + "\n")
    r = run_cli(["proof", "verify", hf])
    t.ok(r.returncode == 0 and "anchored in block" in r.stdout and "business" in r.stdout,
         "anchored proof (hex file) verifies and names the business anchor", r.stdout + r.stderr)
    r = node.cli(["proof", "get", "00" * 32])
    t.ok(r.returncode == 1 and "LB_ENOTFOUND" in r.stderr, "proof of an unknown tx: LB_ENOTFOUND", r.stderr)


def node_addr_bytes(node, name):
    """The 20 address bytes of a key (from its public key, independently of the node)."""
    pk = bytes.fromhex(node.key(name)["public_key"])
    return blake2b256(pk, "LEBEN-addr-v1")[:20]


if __name__ == "__main__":
    main()
