#!/usr/bin/env python3
"""Integration test: an exchange result sealed by the executor to a CP-ABE policy named in the
request (docs/security.md §11 "Use in the exchange"), on a real node.

The user asks (`exchange request --result-policy "cardiologist AND ward:4"`): the policy travels
in the xchg.request tx (shown by GET /v1/exchange/requests/{id} and /v1/txs/{id}); the executor
(`exchange run`) seals the released result under it at the attributes' current epochs (ABE wraps
the key, XChaCha20-Poly1305 carries the padded result) instead of to the user; the chain binds
the hash of that ciphertext.
- bad input first: a malformed policy (byte offset), an authority that published nothing, a name
  carrying an epoch, --authority without a policy: refused before anything is sent; a raw
  xchg.request whose policy is malformed or empty is refused by the chain;
- attack tests: the requester without an ABE key, holders of `cardiologist` only and of
  `ward:4` only (each refused: attributes do not satisfy), the two colluding (a key file pieced
  together from both keys: refused, authentication fails), a sealed result tampered at the node
  (refused: hash differs from the chain's) and a tampered ciphertext opened directly (refused:
  tampered);
- the holder of both attributes opens it with the CLI, and from the API's copy
  (GET /v1/exchange/results/{id}) with `leben abe decrypt`; the figures match python.
"""
import json
import os
import statistics
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import PASSPHRASE, blake2b256, run_cli, run_node, tty_run, uvarint  # noqa: E402
from keystore_oracle import open_keystore_secrets  # noqa: E402

POLICY = "cardiologist AND ward:4"
PARAMS = '{"columns": ["age", "systolic"]}'


def builtin_hash(name):
    return blake2b256(name.encode(), "LEBEN-algo-builtin-v1").hex()


def key_entries(blob):
    """An ABE key encoding (LBABEK1): header (magic, authority, identity, K, L) and its
    attribute entries (each: length byte, name, K_x)."""
    head = 7 + 64 + 48 + 96
    n = struct.unpack(">H", blob[head:head + 2])[0]
    p, out = head + 2, []
    for _ in range(n):
        ln = blob[p]
        out.append(blob[p:p + 1 + ln + 48])
        p += 1 + ln + 48
    return blob[:head], out


def request_payload(asset, algo, purpose, params, auth=None, policy=None):
    """xchg.request payload (docs/wire-format.md), written independently of the C encoder."""
    s = lambda b: uvarint(len(b)) + b  # noqa: E731
    p = bytes.fromhex(asset) + bytes.fromhex(algo) + b"\x00" + s(purpose.encode()) + s(params.encode())
    if auth is not None:
        p += bytes.fromhex(auth) + s(policy.encode())
    return p.hex()


def run(t, node, tmp):
    people = {"carol": "cardiologist,ward:4", "erin": "cardiologist", "frank": "ward:4"}
    for p in list(people) + ["colluders"]:
        r = run_cli(["keys", "new", p, "--home", node.home])
        t.ok(r.returncode == 0, "key %s created" % p, r.stderr)
    rows = [("P%d" % n, 40 + 3 * n, 118 + 2 * n) for n in range(1, 13)]
    data = os.path.join(tmp, "cohort.csv")
    with open(data, "w") as f:
        f.write("patient_id,age,systolic\n")
        for x in rows:
            f.write("%s,%d,%d\n" % x)

    # ---- an attribute authority and its staff's keys ------------------------------------------
    r = node.cli(["abe", "setup", "--json"])
    if not t.ok(r.returncode == 0, "the institution becomes an attribute authority", r.stderr):
        return
    auth = json.loads(r.stdout)["authority"]
    for p, attrs in people.items():
        f = os.path.join(tmp, p + ".abekey")
        r1 = node.cli(["abe", "keygen", "--user", p, "--attrs", attrs, "--out", f])
        r2 = node.cli(["abe", "import", f, "--key", p])
        t.ok(r1.returncode == 0 and r2.returncode == 0, "ABE key for %s (%s)" % (p, attrs),
             r1.stderr + r2.stderr)
    # two people pool their keys: erin's K and L with both attribute elements
    # (the keys are keystore secrets: opened by the oracle; the pieced file is put in clear, as
    # an earlier version kept keys, and moved into the keystore on first use)
    kdir = os.path.join(node.home, "abe", "keys")
    ek, fk = open_keystore_secrets([(os.path.join(kdir, p, auth + ".abekey"), auth, "abekey",
                                     PASSPHRASE) for p in ("erin", "frank")])
    head, e_ent = key_entries(ek or b"")
    _, f_ent = key_entries(fk or b"")
    os.makedirs(os.path.join(kdir, "colluders"), mode=0o700)
    with open(os.path.join(kdir, "colluders", auth + ".key"), "wb") as f:
        f.write(head + struct.pack(">H", 2) + e_ent[0] + f_ent[0])

    # ---- an offered asset --------------------------------------------------------------------
    r, reg = node.cli_json(["tx", "asset-register", "--from", "clinic", "--content-file", data, "--wait"])
    t.ok(r.returncode == 0 and reg, "asset registered", r.stderr)
    r = node.cli(["tx", "identity", "--from", "clinic", "--role", "provider", "--name", "St. Anna", "--wait"])
    t.ok(r.returncode == 0, "clinic identity", r.stderr)
    r = node.cli(["tx", "transfer", "--from", "clinic", "--to", "node", "--asset", "csc", "--amount", "10", "--wait"])
    t.ok(r.returncode == 0, "executor funded for settlement fees", r.stderr)
    r, off = node.cli_json(["exchange", "offer", "--from", "clinic", "--asset-tx", reg["id"], "--price", "1",
                            "--min-cohort", "5", "--data", data, "--allow", "builtin:stats", "--opt-out",
                            "--legal-basis", "registry law art. 5"])
    if not t.ok(r.returncode == 0 and off, "asset offered (stats allowed in advance)", r.stderr):
        return
    asset = off["asset"]
    r = node.cli(["exchange", "grant", "--from", "clinic", "--asset", asset, "--executor", "node"])
    t.ok(r.returncode == 0, "execution right granted to the node", r.stderr)

    # ---- bad input: refused before anything is sent ------------------------------------------
    nonce0 = node.account("alice")["nonces"]["business"] if "nonces" in node.account("alice") else None
    base = ["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm", "builtin:stats",
            "--purpose", "ward audit", "--params", PARAMS]
    r = node.cli(base + ["--result-policy", "(cardiologist AND", "--authority", auth])
    t.ok(r.returncode == 1 and "at byte 17" in r.stderr and "nothing was sent" in r.stderr,
         "a malformed result policy is refused with its byte offset", r.stderr)
    r = node.cli(base + ["--result-policy", POLICY, "--authority", "ab" * 32])
    t.ok(r.returncode == 1 and "abe setup" in r.stderr,
         "an authority that published nothing is refused (says to run abe setup)", r.stderr)
    r = node.cli(base + ["--result-policy", "ward:4@v2", "--authority", auth])
    t.ok(r.returncode == 1 and "epoch" in r.stderr, "a name carrying an epoch is refused", r.stderr)
    r = node.cli(base + ["--authority", auth])
    t.ok(r.returncode == 2 and "--result-policy" in r.stderr, "--authority alone is a usage error",
         r.stderr)
    if nonce0 is not None:
        t.eq(node.account("alice")["nonces"]["business"], nonce0, "nothing was sent for them")
    for bad, why in (("(a AND", "a malformed policy"), ("", "an empty policy")):
        hexes = node.sign("raw", ["--from", "alice", "--chain", "business", "--type-id", str(0x0343),
                                  "--payload", request_payload(asset, builtin_hash("stats"), "x", "",
                                                               auth, bad)])
        st, j = node.post_txs({"tx": hexes[0]})
        t.ok(st != 202 and "result policy" in json.dumps(j),
             "the chain refuses a request with %s" % why, j)

    # ---- the request names the policy; the executor seals to it -----------------------------
    r, rq = node.cli_json(base + ["--result-policy", POLICY, "--authority", auth])
    if not t.ok(r.returncode == 0 and rq and rq["status"] == "approved",
                "request with a result policy (approved by the allow-list)", r.stdout + r.stderr):
        return
    req = rq["tx"]
    t.eq(rq.get("result_policy"), {"authority": auth, "policy": POLICY},
         "GET /v1/exchange/requests/{id} shows the result policy")
    st, tx = node.get("/v1/txs/" + req)
    t.eq(tx["payload"].get("result_policy"), {"authority": auth, "policy": POLICY},
         "GET /v1/txs/{id} decodes the policy of the xchg.request")
    r, esc = node.cli_json(["exchange", "escrow", "--from", "alice", "--request", req, "--executor", "node",
                            "--compute-fee", "1"])
    t.ok(r.returncode == 0 and esc, "escrow opened", r.stderr)
    r, ran = node.cli_json(["exchange", "run", "--from", "node", "--request", req, "--escrow", esc["escrow"],
                            "--data", data])
    if not t.ok(r.returncode == 0 and ran and ran["status"] == "delivered",
                "run delivered", r.stdout + r.stderr):
        return
    t.eq(ran.get("sealed_to_policy"), "cardiologist@v1 AND ward:4@v1",
         "the executor sealed the result to the policy at the current epochs")
    st, sj = node.get("/v1/exchange/results/" + req)
    sealed = bytes.fromhex(sj["sealed"])
    t.ok(sealed.startswith(b"LBABE1") and bytes.fromhex(auth) == sealed[6:38],
         "the sealed result is a CP-ABE ciphertext of the authority (not an envelope)")
    t.eq(blake2b256(sealed).hex(), ran["result_hash"], "the chain binds the hash of the ciphertext")

    # ---- attack tests: each refused with its own error ------------------------------------------
    r = node.cli(["exchange", "result", "--from", "alice", "--request", req])
    t.ok(r.returncode == 1 and "holds no ABE key" in r.stderr and '"n"' not in r.stdout,
         "the requester without an ABE key cannot open it (the result is not sealed to her)", r.stderr)
    for who in ("erin", "frank"):
        r = node.cli(["exchange", "result", "--from", who, "--request", req])
        t.ok(r.returncode == 1 and "do not satisfy" in r.stderr and POLICY in r.stderr
             and '"n"' not in r.stdout,
             "%s (%s only) is refused: attributes do not satisfy the policy" % (who, people[who]),
             r.stderr)
    r = node.cli(["exchange", "result", "--from", "colluders", "--request", req])
    t.ok(r.returncode == 1 and "pieced together" in r.stderr and "authentication failed" in r.stderr
         and '"n"' not in r.stdout,
         "erin and frank colluding (key parts pooled) are refused", r.stderr)
    stored = os.path.join(node.home, "exchange", "results", req + ".json")
    orig = open(stored).read()
    sj2 = json.loads(orig)
    bad = bytearray(sealed)
    bad[-20] ^= 1
    sj2["sealed"] = bad.hex()
    with open(stored, "w") as f:
        f.write(json.dumps(sj2))
    r = node.cli(["exchange", "result", "--from", "carol", "--request", req])
    t.ok(r.returncode == 1 and "does not match the hash recorded" in r.stderr and '"n"' not in r.stdout,
         "a sealed result tampered at the node is refused (hash differs from the chain's)", r.stderr)
    with open(stored, "w") as f:
        f.write(orig)
    badf = os.path.join(tmp, "tampered.abe")
    open(badf, "wb").write(bytes(bad))
    r = node.cli(["abe", "decrypt", "--key", "carol", "--in", badf])
    t.ok(r.returncode == 1 and "authentication failed" in r.stderr and '"n"' not in r.stdout,
         "the tampered ciphertext itself fails authentication", r.stderr)

    # ---- the satisfying holder opens it: CLI and the API's copy ---------------------------------
    out = os.path.join(tmp, "result.json")
    rc, shown, n = tty_run(["exchange", "result", "--from", "carol", "--request", req, "--out",
                            out, "--home", node.home, "--node", node.url], PASSPHRASE)
    t.ok(rc == 0 and "checked against the chain" in shown and n == 1,
         "carol (cardiologist, ward:4) opens the result with the CLI, asked her passphrase once "
         "on a terminal (her key, then her ABE key under it)", shown)
    text = open(out, "rb").read() if rc == 0 else b"{}"
    res = json.loads(text)
    cols = {c["name"]: c for c in res.get("columns", [])}
    ok = res.get("n") == 12
    for i, col in ((1, "age"), (2, "systolic")):
        vals = [x[i] for x in rows]
        ok = ok and abs(cols.get(col, {}).get("mean", -1) - statistics.mean(vals)) < 1e-9
    t.ok(ok, "the figures match python's statistics module", res)
    apif = os.path.join(tmp, "api.abe")
    open(apif, "wb").write(sealed)
    r = node.cli(["abe", "decrypt", "--key", "carol", "--in", apif, "--out", apif + ".out"])
    t.ok(r.returncode == 0 and open(apif + ".out", "rb").read().rstrip(b" ") == text,
         "the API's copy (GET /v1/exchange/results) opens with carol's key: the same result", r.stderr)
    r = node.cli(["abe", "decrypt", "--key", "erin", "--in", apif])
    t.ok(r.returncode == 1 and "do not satisfy" in r.stderr, "erin's key does not open the API's copy",
         r.stderr)

    # ---- revocation: the epoch goes up; carol's key no longer satisfies a new request ----------
    r = node.cli(["abe", "revoke", "--user", "carol", "--attr", "ward:4", "--reissue-dir",
                  os.path.join(tmp, "re")])
    t.ok(r.returncode == 0, "ward:4 revoked from carol", r.stderr)
    r, rq = node.cli_json(base + ["--result-policy", POLICY, "--authority", auth])
    r2, esc = node.cli_json(["exchange", "escrow", "--from", "alice", "--request", rq["tx"], "--executor",
                             "node", "--compute-fee", "1"])
    r3, ran = node.cli_json(["exchange", "run", "--from", "node", "--request", rq["tx"], "--escrow",
                             esc["escrow"], "--data", data])
    t.ok(r3.returncode == 0 and ran.get("sealed_to_policy") == "cardiologist@v1 AND ward:4@v2",
         "a run after the revocation seals to the new epoch", r3.stdout + r3.stderr)
    r = node.cli(["exchange", "result", "--from", "carol", "--request", rq["tx"]])
    t.ok(r.returncode == 1 and "do not satisfy" in r.stderr,
         "carol, revoked, cannot open the new result", r.stderr)


def main():
    run_node(run, tmp="leben-xabe-")


if __name__ == "__main__":
    main()
