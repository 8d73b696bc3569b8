#!/usr/bin/env python3
"""Key recovery and key reset through a real node and the real keystore.

Guardians: alice's key is split 2-of-3 among bob, clinic and a third guardian key; the
record on the business chain names who holds which share index (never a share: checked by
comparing the record's bytes with the sealed files); each guardian opens only its own share;
two opened shares restore alice's key under a new name and passphrase (same address, and the
restored key signs a tx the node accepts); one share is refused (fewer than t), a share with
one flipped byte is refused, a share of another split is refused, a guardian's key cannot
open another guardian's file.

Reset: alice records a recovery commitment; a wrong secret, a record from another account's
commitment, proofs made with the right secret for another purpose or another chain (sent as
raw txs; each proof is valid in its own context), a nonce ahead and a replayed proof are
refused by the node; a good reset (made with --no-follow) makes the
new key act for alice (her identity is registered by it), and alice's old key is refused on
the business chain while it still moves her balance on the settlement chain until the reset
is carried there.

Follow-up: `keys follow` refuses a tx that is not a reset and a chain that is not settlement or
directory; once a block of each chain anchors the reset it carries it to both (the account's
key view shows each chain's key map); run again it changes nothing; the same follow-up sent as a
raw tx is refused (already carried), and so is a proof anchored in the directory chain sent to
the settlement chain. Then alice's old key is refused on settlement (a transfer) and directory
(an asset registration), and the new key moves her ASC (balances checked before and after).
A second reset with the automatic follow-up (other institutions' txs make the anchoring
blocks meanwhile) retires the first new key on all three chains and the second one moves her
ASC. Finally the whole history replays under `leben verify`."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import BIN, Tap, blake2b256, env, run_cli, run_node  # noqa: E402


def main():
    t = Tap()
    r = run_cli(["keys", "--help"])
    t.ok(r.returncode == 0 and "split NAME" in r.stdout and "reset NEWNAME" in r.stdout,
         "keys --help lists split, recover and reset", r.stderr)

    def run(t, node, d):
        guardians(t, node, d)
        reset(t, node, d)
    run_node(run, tmp="leben-keys-", t=t,
             verify="leben verify replays the chains (key map included)")


def cli(node, args):
    return node.cli(args)


def guardians(t, node, d):
    r = run_cli(["keys", "new", "guard3", "--home", node.home])
    t.ok(r.returncode == 0, "third guardian key created", r.stderr)
    pk3 = node.key("guard3")["public_key"]
    # guard3 publishes its key in its identity record; guardians can then be named by address
    r = cli(node, ["tx", "identity", "--from", "guard3", "--role", "provider", "--name",
                   "Guardian Three", "--meta", json.dumps({"public_key": pk3}), "--wait"])
    t.ok(r.returncode == 0, "guard3 publishes its key in its identity record", r.stderr)
    # clinic publishes bob's key as if it were its own: refused when used
    r = cli(node, ["tx", "identity", "--from", "clinic", "--role", "provider", "--name",
                   "Clinic", "--meta", json.dumps({"public_key": node.key("bob")["public_key"]}),
                   "--wait"])
    r = cli(node, ["keys", "split", "alice", "--threshold", "2", "--guardians",
                   "bob," + node.address("clinic"), "--out", d])
    t.ok(r.returncode == 1 and "not that account's key" in r.stderr,
         "a published key that is not the account's own is refused", r.stderr)
    r = cli(node, ["keys", "split", "alice", "--threshold", "2", "--guardians",
                   "bob," + node.address("bank"), "--out", d])
    t.ok(r.returncode == 1 and "publishes no key" in r.stderr,
         "a guardian address without a published key is refused", r.stderr)
    t.ok(not any(f.startswith("alice.share") for f in os.listdir(d)),
         "no share file written after those refusals")
    r = cli(node, ["keys", "split", "alice", "--threshold", "2", "--guardians",
                   "bob,clinic," + node.address("guard3"), "--out", d, "--json"])
    if not t.ok(r.returncode == 0, "keys split alice 2-of-3 (key names and an address)",
                r.stderr):
        return
    out = json.loads(r.stdout)
    files = [s["file"] for s in out["shares"]]
    t.eq(len(files), 3, "three sealed share files written")
    tx = node.wait_tx(out["record_tx"])
    t.eq(tx and tx["status"], "committed", "keys.guardians tx committed")
    p = tx["payload"]
    t.eq(p["account"], node.address("alice"), "record names alice's account")
    t.ok(sorted(g["address"] for g in p["guardians"]) ==
         sorted([node.address("bob"), node.address("clinic"), node.address("guard3")]),
         "exactly bob, clinic and guard3 hold shares")
    t.eq(p["threshold"], 2, "record threshold 2")
    sealed = [json.load(open(f)) for f in files]
    t.ok(all("share" not in s for s in sealed), "sealed files carry no plaintext share")
    # the record (hex of the whole tx JSON) shares no 16-byte run with any envelope
    txtext = json.dumps(tx)
    leak = any(s["envelope"][i:i + 32] in txtext for s in sealed
               for i in range(0, len(s["envelope"]) - 32, 16))
    t.ok(not leak, "the chain record holds nothing of the sealed shares")

    # a guardian cannot open another guardian's file
    r = cli(node, ["keys", "open-share", files[0], "--key", "clinic"])
    t.ok(r.returncode == 1 and "another guardian" in r.stderr, "clinic cannot open bob's share",
         r.stderr)
    opened = []
    for f, g in zip(files, ["bob", "clinic", "guard3"]):
        o = f + ".opened"
        r = cli(node, ["keys", "open-share", f, "--key", g, "--out", o])
        t.ok(r.returncode == 0 and (os.stat(o).st_mode & 0o777) == 0o600,
             "%s opens its share (file mode 0600)" % g, r.stderr)
        opened.append(o)

    # fewer than t
    r = cli(node, ["keys", "recover", "alice2", opened[0], opened[0]])
    t.ok(r.returncode == 1 and "same index" in r.stderr,
         "the same share twice is refused (duplicate index)", r.stderr)
    r = cli(node, ["keys", "recover", "alice2", "--shares", opened[1]])
    t.ok(r.returncode == 2, "one share: refused (at least 2 files)", r.stderr)
    # a tampered share
    j = json.load(open(opened[1]))
    sh = bytearray.fromhex(j["share"])
    sh[70] ^= 0x01
    j["share"] = sh.hex()
    bad = os.path.join(d, "tampered.json")
    json.dump(j, open(bad, "w"))
    r = cli(node, ["keys", "recover", "alice2", opened[0], bad])
    t.ok(r.returncode == 1 and "share 2" in r.stderr and "checksum mismatch" in r.stderr,
         "a share with one flipped byte is refused", r.stderr)
    t.ok(not os.path.exists(os.path.join(node.home, "keys", "alice2.key")),
         "nothing stored after the refusals")

    # shares of another split (bob's key) mixed in
    r = cli(node, ["keys", "split", "bob", "--threshold", "3", "--guardians",
                   "clinic,guard3," + node.key("alice")["public_key"], "--out", d, "--json"])
    t.ok(r.returncode == 0, "bob's key split 3-of-3 (one guardian by public key)", r.stderr)
    bobfiles = [s["file"] for s in json.loads(r.stdout)["shares"]]
    for f, g in zip(bobfiles[:2], ["clinic", "guard3"]):
        cli(node, ["keys", "open-share", f, "--key", g, "--out", f + ".o"])
    r = cli(node, ["keys", "recover", "bob2", bobfiles[0] + ".o", bobfiles[1] + ".o"])
    t.ok(r.returncode == 1 and "2 share(s) given, 3 needed" in r.stderr,
         "2 shares of a 3-of-3 split: refused", r.stderr)
    t.ok(not os.path.exists(os.path.join(node.home, "keys", "bob2.key")), "no key stored")
    r = cli(node, ["keys", "recover", "alice2", opened[0], bobfiles[0] + ".o"])
    t.ok(r.returncode != 0 and "another split" in r.stderr, "a share of another split is refused",
         r.stderr)

    # two good shares restore alice
    r = cli(node, ["keys", "recover", "alice2", opened[2], opened[0], "--json"])
    if t.ok(r.returncode == 0, "keys recover from 2 of 3 shares", r.stderr):
        t.eq(json.loads(r.stdout)["address"], node.address("alice"),
             "the recovered key has alice's address")
        t.eq(node.key("alice2")["public_key"], node.key("alice")["public_key"],
             "the keystore holds alice's key again")
        r = cli(node, ["tx", "record", "--from", "alice2", "--kind", "recovery.test",
                       "--subject", "restored", "--wait"])
        t.ok(r.returncode == 0, "the recovered key signs a tx the node accepts", r.stderr)
    r = cli(node, ["keys", "recover", "alice2", opened[2], opened[0]])
    t.ok(r.returncode == 1 and "another name" in r.stderr, "recover refuses to overwrite a key",
         r.stderr)


def reset(t, node, d):
    sec = os.path.join(d, "secret")
    wrong = os.path.join(d, "wrong")
    open(sec, "w").write("orange-glacier-41-parsley-window\n")
    open(wrong, "w").write("orange-glacier-41-parsley-windou\n")
    r = cli(node, ["keys", "recovery-commit", "alice", "--secret-file", sec, "--ops", "1",
                   "--mem-kib", "8192", "--json"])
    if not t.ok(r.returncode == 0, "alice records a recovery commitment", r.stderr):
        return
    rec_tx = json.loads(r.stdout)["record_tx"]
    r = cli(node, ["keys", "recovery-commit", "bob", "--secret-file", wrong, "--ops", "1",
                   "--mem-kib", "8192", "--json"])
    bob_rec = json.loads(r.stdout)["record_tx"] if r.returncode == 0 else None
    alice = node.address("alice")
    base = ["keys", "reset", "--account", alice]
    st, k = node.get("/v1/accounts/%s/keys" % alice)
    t.ok(st == 200 and k["key_status"] == "own" and k["next_reset_nonce"] == 0
         and k["recovery"]["commitment"] == node.wait_tx(rec_tx)["payload"]["commitment"]
         and k["guardians"]["threshold"] == 2,
         "GET /v1/accounts/ADDR/keys shows alice's recovery and guardian records", k)
    st, k = node.get("/v1/accounts/%s/keys" % node.address("bank"))
    t.ok(st == 200 and k["recovery"] is None and k["guardians"] is None,
         "an account without records shows none", k)

    r = cli(node, base + ["newa1", "--secret-file", wrong])
    t.ok(r.returncode == 1 and "proof of ownership does not hold" in r.stderr,
         "reset with a wrong secret refused by the node", r.stderr)
    # bob's commitment (with bob's secret) used for alice: refused, alice has another record
    r = cli(node, ["keys", "reset", "--account", alice, "--record-tx", bob_rec, "newa2",
                   "--secret-file", wrong])  # --record-tx overrides the chain's record
    t.ok(r.returncode == 1 and "proof" in r.stderr, "a proof against another commitment refused",
         r.stderr)
    # proofs made with the right secret for another context, sent as raw keys.reset txs
    txj = node.wait_tx(rec_tx)["payload"]
    rec_hex = ("01%08x%08x" % (txj["opslimit"], txj["memlimit_kib"])) + txj["salt"] + txj["commitment"]
    r = run_cli(["keys", "new", "newc", "--home", node.home])
    newc = node.key("newc")["public_key"]
    acct_hex = blake2b256(bytes.fromhex(node.key("alice")["public_key"]), "LEBEN-addr-v1")[:20].hex()
    for chain, purpose, what in (("business", "login", "another purpose"),
                                 ("settlement", "keys.reset", "another chain")):
        ctx = ["--account", acct_hex, "--chain", chain, "--purpose", purpose, "--nonce", "0",
               "--bound", newc]
        pr = run_cli(["zk", "prove", "--secret-file", sec, "--record", rec_hex] + ctx)
        proof = pr.stdout.split()[-1] if pr.returncode == 0 else "00" * 64
        v = run_cli(["zk", "verify", "--record", rec_hex, "--proof", proof] + ctx)
        t.ok(v.returncode == 0, "the proof for %s is valid in its own context" % what, v.stderr)
        payload = "0114" + acct_hex + newc + "%016x" % 0 + proof
        r = cli(node, ["tx", "raw", "--from", "newc", "--chain", "business", "--type-id", "802",
                       "--payload", payload])
        t.ok(r.returncode == 1 and "proof of ownership does not hold" in r.stderr,
             "a proof made for %s is refused by the node" % what, r.stderr)
    r = cli(node, base + ["newa3", "--secret-file", sec, "--reset-nonce", "1"])
    t.ok(r.returncode == 1 and "skips ahead" in r.stderr, "a reset nonce ahead refused", r.stderr)
    r = cli(node, base + ["newa", "--secret-file", sec, "--json", "--no-follow"])
    if not t.ok(r.returncode == 0, "reset with the right secret", r.stderr):
        return
    out = json.loads(r.stdout)
    t.eq(out["new_key_address"], node.address("newa"), "reset names the new key")
    t.eq(out["follow"], {}, "--no-follow: nothing carried to the other chains")
    reset_tx = out["tx"]
    r = cli(node, base + ["newb", "--secret-file", sec, "--reset-nonce", "0"])
    t.ok(r.returncode == 1 and "already used" in r.stderr, "the same reset nonce again: replay refused",
         r.stderr)
    st, k = node.get("/v1/accounts/%s/keys" % alice)
    t.ok(k["key_status"] == "replaced" and k["current_key"] == node.address("newa")
         and k["next_reset_nonce"] == 1, "alice's key records after the reset", k)
    st, k = node.get("/v1/accounts/%s/keys" % node.address("newa"))
    t.ok(k["key_status"] == "acts_for" and k["acts_for"] == alice, "the new key acts for alice", k)

    # alice's old key is refused on the business chain, the new one acts for alice
    r = cli(node, ["tx", "record", "--from", "alice", "--kind", "after.reset", "--subject", "x"])
    t.ok(r.returncode == 1 and "replaced" in r.stderr, "the old key is refused on the business chain",
         r.stderr)
    r = cli(node, ["tx", "record", "--from", "alice2", "--kind", "after.reset", "--subject", "x"])
    t.ok(r.returncode == 1 and "replaced" in r.stderr, "so is the recovered copy of the old key",
         r.stderr)
    r = cli(node, ["tx", "identity", "--from", "newa", "--role", "patient", "--name", "Alice A.",
                   "--wait"])
    t.ok(r.returncode == 0, "the new key registers an identity", r.stderr)
    ident = node.account(alice).get("identity") or {}
    t.eq(ident.get("name"), "Alice A.", "the identity is alice's account's")
    t.eq(node.account("newa").get("identity"), None, "not the new key's own address")
    # settlement: the old key still controls alice's balance there until the follow-up
    r = cli(node, ["tx", "transfer", "--from", "alice", "--to", "bob", "--amount", "1", "--wait"])
    t.ok(r.returncode == 0, "before the follow-up the settlement chain honours the old key",
         r.stderr)
    follow(t, node, d, reset_tx, rec_tx, sec)


def asc(node, who):
    return node.account(who)["balances"]["asc"]


def traffic(node, tag):
    """Txs of other institutions: a settlement and a directory block after everything so far."""
    r1 = node.cli(["tx", "transfer", "--from", "clinic", "--to", "bank", "--amount", "0.5",
                   "--wait"])
    r2 = node.cli(["tx", "asset-register", "--from", "clinic", "--content-hash",
                   blake2b256(tag.encode()).hex(), "--wait"])
    return r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7f) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def follow_payload(node, txid, anchor):
    st, p = node.get("/v1/txs/%s/proof?anchor=%s" % (txid, anchor))
    tx, proof = bytes.fromhex(p["tx"]), bytes.fromhex(p["proof"])
    return (b"\x01" + varint(len(tx)) + tx + varint(len(proof)) + proof).hex()


def refused_everywhere(t, node, key, what):
    r = node.cli(["tx", "transfer", "--from", key, "--to", "bob", "--amount", "1"])
    t.ok(r.returncode == 1 and "replaced" in r.stderr,
         "%s is refused on the settlement chain" % what, r.stderr)
    r = node.cli(["tx", "asset-register", "--from", key, "--content-hash",
                  blake2b256(key.encode()).hex()])
    t.ok(r.returncode == 1 and "replaced" in r.stderr,
         "%s is refused on the directory chain" % what, r.stderr)


def follow(t, node, d, reset_tx, rec_tx, sec):
    alice = node.address("alice")
    r = node.cli(["keys", "follow", "--tx", rec_tx])
    t.ok(r.returncode == 1 and "not 'keys.reset'" in r.stderr,
         "keys follow refuses a tx that is not a reset", r.stderr)
    r = node.cli(["keys", "follow", "--tx", reset_tx, "--chain", "business"])
    t.ok(r.returncode == 2 and "settlement" in r.stderr,
         "keys follow refuses the business chain as a target", r.stderr)
    ok, err = traffic(node, "anchor-1")
    t.ok(ok, "other institutions' txs make settlement and directory blocks", err)
    # a proof anchored in the directory chain, sent to the settlement chain
    r = node.cli(["tx", "raw", "--from", "bob", "--chain", "settlement", "--type-id", "261",
                  "--fee", "0", "--payload", follow_payload(node, reset_tx, "directory")])
    t.ok(r.returncode == 1 and "anchored in a settlement block" in r.stderr,
         "a proof anchored in another chain is refused", r.stderr)
    a0, b0 = asc(node, "alice"), asc(node, "bob")
    r = node.cli(["keys", "follow", "--tx", reset_tx, "--json"])
    if not t.ok(r.returncode == 0, "keys follow carries the reset by hand", r.stderr):
        return
    out = json.loads(r.stdout)
    t.ok(out["follow"]["settlement"]["status"] == "followed"
         and out["follow"]["directory"]["status"] == "followed"
         and node.wait_tx(out["follow"]["settlement"]["tx"])["type"] == "keys.follow"
         and node.wait_tx(out["follow"]["directory"]["tx"])["type"] == "keys.follow.directory",
         "one keys.follow tx committed on each chain", out)
    st, k = node.get("/v1/accounts/%s/keys" % alice)
    t.ok(all(k["chains"][c]["key_status"] == "replaced"
             and k["chains"][c]["current_key"] == node.address("newa")
             and k["chains"][c]["next_reset_nonce"] == 1 for c in ("settlement", "directory")),
         "alice's key view: the reset holds on settlement and directory", k)
    r = node.cli(["keys", "follow", "--tx", reset_tx, "--json"])
    t.ok(r.returncode == 0 and all(v["status"] == "already"
                                   for v in json.loads(r.stdout)["follow"].values()),
         "keys follow again changes nothing", r.stdout + r.stderr)
    r = node.cli(["tx", "raw", "--from", "bob", "--chain", "settlement", "--type-id", "261",
                  "--fee", "0", "--payload", follow_payload(node, reset_tx, "settlement")])
    t.ok(r.returncode == 1 and "already carried" in r.stderr,
         "the same follow-up as a raw tx: refused (replay)", r.stderr)
    t.eq(asc(node, "alice"), a0, "no balance moved by the refusals")
    refused_everywhere(t, node, "alice", "alice's old key")
    r = node.cli(["tx", "transfer", "--from", "newa", "--to", "bob", "--amount", "2", "--wait"])
    t.ok(r.returncode == 0, "the new key moves alice's ASC", r.stderr)
    t.eq((asc(node, "alice"), asc(node, "bob")), (a0 - 2000000, b0 + 2000000),
         "2 ASC went from alice's account to bob")
    t.eq(asc(node, "newa"), 0, "nothing landed on the new key's own address")

    # a second reset with the automatic follow-up
    p = subprocess.Popen([BIN, "keys", "reset", "newb", "--account", alice, "--secret-file", sec,
                          "--json", "--timeout", "120", "--home", node.home, "--node", node.url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    end = time.time() + 120
    while time.time() < end and p.poll() is None:
        st, k = node.get("/v1/accounts/%s/keys" % alice)
        if st == 200 and k["next_reset_nonce"] == 2:
            break
        time.sleep(0.1)
    ok, err = traffic(node, "anchor-2")
    t.ok(ok, "other institutions' txs while the reset waits", err)
    so, se = p.communicate(timeout=180)
    if not t.ok(p.returncode == 0, "keys reset with the automatic follow-up", se):
        return
    out = json.loads(so)
    t.ok(out["reset_nonce"] == 1 and all(out["follow"][c]["status"] == "followed"
                                         for c in ("settlement", "directory")),
         "the second reset is carried to both chains", out)
    refused_everywhere(t, node, "newa", "the first new key")
    a0, b0 = asc(node, "alice"), asc(node, "bob")
    r = node.cli(["tx", "transfer", "--from", "newb", "--to", "bob", "--amount", "3", "--wait"])
    t.ok(r.returncode == 0 and asc(node, "alice") == a0 - 3000000
         and asc(node, "bob") == b0 + 3000000, "the second new key moves alice's ASC", r.stderr)


if __name__ == "__main__":
    main()
