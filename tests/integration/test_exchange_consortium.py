#!/usr/bin/python3
"""Off-site and integrated exchange runs across a local consortium of three institutions
(scripts/cluster.sh up 3: etcd ordering, mutual TLS, one node key per institution), driven by
examples/exchange-consortium.sh, which a newcomer runs as is.

Checks: the script runs to the end; each result (off-site at institution-2, integrated at
institution-3) equals python's statistics over the clinic's table without the patient who
revoked consent; the payment split in exact micro-units; the data reached each executor's
node only sealed (no cell of the table in the stored input, the patients listed by their
salted commitments as computed here with blake2b from the clinic's salt key, which travelled
sealed too) and nowhere else; refusals that store nothing and
charge nothing: a delivery to a node whose key is not the escrow's executor, a delivery whose
signature does not verify, one signed by a key that does not own the asset, one for a request
the owner has not approved, and a run with no delivered input."""

import json
import os
import statistics
import subprocess
import sys
import urllib.error
import urllib.request

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import (BIN, ROOT, Tap, addr_bytes, blake2b256, install_tls,  # noqa: E402
                       patient_commitment, read_cluster_env, scratch_dir)

M = 1000000
FEE = 1000  # genesis default fee of a settlement tx (demo genesis), micro-CSC
PASS = "cluster"


def env():
    e = dict(os.environ)
    e["LEBEN_PASSPHRASE"] = PASS
    e["LEBEN_BIN"] = BIN
    e.pop("LEBEN_NODE", None)
    e.pop("LEBEN_HOME", None)
    return e


def http(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def input_digest(req, esc, executor, sealed, patients, column, salt):
    """lb_xchg_input_digest (docs/api.md), built independently of the C code."""
    return blake2b256(bytes.fromhex(req) + bytes.fromhex(esc) + addr_bytes(executor) +
                      len(patients).to_bytes(8, "big") +
                      b"".join(bytes.fromhex(p) for p in patients) + column.encode() +
                      len(salt).to_bytes(8, "big") + salt + sealed,
                      "LEBEN-sealed-input-v2")


def main():
    t = Tap()
    work = scratch_dir("leben-xchg-cons-")
    cluster = os.path.join(work, "cluster")
    e = env()
    e["CLUSTER"] = cluster
    e["KEEP"] = "1"
    try:
        run(t, e, cluster)
    finally:
        subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "down", cluster],
                       env=e, capture_output=True, timeout=120)
    t.done()


def cli(e, cluster, i, args, url=None):
    cenv = dict(e)
    u = url or read_cluster_env(cluster)["NODE_API_%d" % i]
    return subprocess.run([BIN] + args + ["--home", os.path.join(cluster, "node-%d" % i),
                                          "--node", u], env=cenv, capture_output=True,
                          text=True, timeout=300)


def run(t, e, cluster):
    r = subprocess.run([os.path.join(ROOT, "examples", "exchange-consortium.sh")], env=e,
                       capture_output=True, text=True, timeout=600)
    if not t.ok(r.returncode == 0, "examples/exchange-consortium.sh runs to the end",
                (r.stdout[-3000:] + r.stderr[-3000:])):
        return
    ce = read_cluster_env(cluster)
    install_tls(os.path.join(cluster, "node-1", "tls"))  # the nodes' APIs take members only
    urls = {i: ce["NODE_API_%d" % i] for i in (1, 2, 3)}

    # the clinic's table, as the script wrote it; P7 revoked consent
    rows = []
    with open(os.path.join(cluster, "cohort.csv")) as f:
        header = f.readline().strip().split(",")
        for line in f:
            rows.append(dict(zip(header, line.strip().split(","))))
    kept = [x for x in rows if x["patient_id"] != "P7"]
    for scen in ("off-site", "integrated"):
        with open(os.path.join(cluster, "result-%s.json" % scen)) as f:
            res = json.load(f)
        good = res.get("n") == len(kept)
        for col in res.get("columns", []):
            vals = [float(x[col["name"]]) for x in kept]
            good &= abs(col["mean"] - statistics.mean(vals)) < 1e-9
            good &= abs(col["sd"] - statistics.stdev(vals)) < 1e-9
        good &= len(res.get("columns", [])) == 3
        t.ok(good, "%s result = python statistics over the 11 consenting patients" % scen, res)

    def keyaddr(i, name):
        r = subprocess.run([BIN, "keys", "show", name, "--home",
                            os.path.join(cluster, "node-%d" % i), "--json"], env=e,
                           capture_output=True, text=True)
        return json.loads(r.stdout)["address"]

    n2, n3 = keyaddr(2, "node"), keyaddr(3, "node")

    def bal(a):
        return http(urls[1] + "/v1/accounts/" + a)[1]["balances"]

    t.eq(bal(n2), {"asc": 0, "csc": 10 * M + 2 * M - 2 * FEE},
         "institution-2: the off-site computing fee - the fees of its claim and release txs "
         "(a built-in algorithm pays no author)")
    t.eq(bal(n3), {"asc": 0, "csc": 10 * M + 2 * M - 2 * FEE},
         "institution-3: the integrated computing fee - the fees of its claim and release txs")
    t.eq(bal(keyaddr(1, "alice"))["asc"], 1000 * M - 2 * 5 * M,
         "alice paid 5 ASC per run (data only: the built-in is the platform's)")

    # what travelled: only envelopes, to the executor's node only
    reqs = {}
    for scen in ("off-site", "integrated"):
        with open(os.path.join(cluster, "request-%s" % scen)) as f:
            reqs[scen] = f.read().strip()
    st, rq = http(urls[1] + "/v1/exchange/requests/" + reqs["off-site"])
    asset = rq["asset"]
    with open(os.path.join(cluster, "node-1", "exchange", "salts", asset + ".key"), "rb") as f:
        skey = f.read()
    want_pats = sorted(patient_commitment(skey, asset, x["patient_id"]) for x in rows)
    with open(os.path.join(cluster, "cohort.csv"), "rb") as f:
        table = f.read()
    for scen, i in (("off-site", 2), ("integrated", 3)):
        p = os.path.join(cluster, "node-%d" % i, "exchange", "inputs", reqs[scen] + ".json")
        stored = open(p, "rb").read() if os.path.exists(p) else b""
        d = json.loads(stored or b"{}")
        sealed = bytes.fromhex(d.get("sealed", ""))
        leaks = [w for w in (b"systolic", b"P12,", b"hba1c", table[:40]) if w in stored]
        leaks += [w for w in (b"patient_id", b"age,") if w in sealed]
        leaks += [b"salt key"] if skey.hex().encode() in stored or skey in stored else []
        t.ok(stored and not leaks and len(sealed) > len(table),
             "%s: the input on institution-%d's node is sealed (no cell of the table in it)"
             % (scen, i), leaks)
        t.eq(sorted(d.get("patients", [])), want_pats,
             "%s: the delivered patients are the table's, by commitment" % scen)
    t.ok(not os.path.exists(os.path.join(cluster, "node-1", "exchange", "inputs")),
         "the clinic's own node received no input (nothing ran there)")
    t.ok(not os.path.exists(os.path.join(cluster, "node-3", "exchange", "inputs",
                                          reqs["off-site"] + ".json")),
         "the off-site input went to institution-2 only")

    # a new off-site request, approved, escrowed for institution-2
    asset_hex = asset
    r = cli(e, cluster, 1, ["exchange", "request", "--from", "alice", "--asset", asset_hex,
                            "--algorithm", "builtin:stats", "--params",
                            '{"columns":["age"]}', "--scenario", "off-site", "--purpose",
                            "age profile", "--json"])
    if not t.ok(r.returncode == 0, "a third request (off-site)", r.stderr):
        return
    req = json.loads(r.stdout)["tx"]
    r = cli(e, cluster, 1, ["exchange", "approve", "--from", "clinic", "--request", req])
    r = cli(e, cluster, 1, ["exchange", "escrow", "--from", "alice", "--request", req,
                            "--executor", n2, "--compute-fee", "2", "--json"])
    esc = json.loads(r.stdout)["escrow"]
    data = os.path.join(cluster, "cohort.csv")
    r = cli(e, cluster, 1, ["exchange", "send", "--from", "clinic", "--request", req,
                            "--escrow", esc, "--data", data, "--to", urls[3]])
    t.ok(r.returncode == 1 and "runs with key " + n3 in r.stderr and n2 in r.stderr,
         "a delivery to a node whose key is not the escrow's executor is refused",
         r.stdout + r.stderr)
    t.ok(not os.path.exists(os.path.join(cluster, "node-3", "exchange", "inputs",
                                         req + ".json")),
         "... and nothing was stored there")

    # raw deliveries to institution-2, signed here with a key that is not the clinic's
    sk = Ed25519PrivateKey.generate()
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    sealed = os.urandom(200)
    salt = os.urandom(80)
    pats = want_pats

    def body(sig):
        return {"escrow": esc, "executor": n2, "sealed": sealed.hex(), "salt": salt.hex(),
                "patients": pats, "patient_column": "patient_id", "pk": pk.hex(), "sig": sig.hex()}

    good_sig = sk.sign(input_digest(req, esc, n2, sealed, pats, "patient_id", salt))
    bad = [({}, "an empty body"),
           (dict(body(good_sig), sealed="zz"), "sealed bytes that are not hex"),
           (dict(body(good_sig), executor="lb1nope"), "an executor that is not an address"),
           (dict(body(good_sig), salt=None), "no sealed salt key"),
           (dict(body(good_sig), patients="x"), "patients that are not a list")]
    for b, what in bad:
        st, ans = http(urls[2] + "/v1/exchange/inputs/" + req, "POST", b)
        t.ok(st == 400 and ans["error"]["code"] == "LB_EMALFORMED",
             "a delivery with %s is refused (400 LB_EMALFORMED)" % what, ans)
    b = dict(body(good_sig), patients=pats[:3] + ["12"])
    st, ans = http(urls[2] + "/v1/exchange/inputs/" + req, "POST", b)
    t.ok(st == 400 and "patients[3]" in ans["error"]["message"],
         "a delivery naming a bad patient id is refused, naming it", ans)
    st, ans = http(urls[2] + "/v1/exchange/inputs/" + req, "POST", body(bytes(64)))
    t.ok(st == 422 and ans["error"]["code"] == "LB_EBADSIG",
         "a delivery whose signature does not verify is refused (422)", ans)
    st, ans = http(urls[2] + "/v1/exchange/inputs/" + req, "POST", body(good_sig))
    t.ok(st == 403 and ans["error"]["code"] == "LB_EUNAUTH" and "owner" in
         ans["error"]["message"], "a delivery signed by a key that does not own the asset is "
         "refused (403)", ans)
    # an unapproved request: the chain refuses before the signer is even considered
    r = cli(e, cluster, 1, ["exchange", "request", "--from", "alice", "--asset", asset_hex,
                            "--algorithm", "builtin:stats", "--params",
                            '{"columns":["age"]}', "--scenario", "off-site", "--purpose",
                            "age profile", "--json"])
    req2 = json.loads(r.stdout)["tx"]
    sig2 = sk.sign(input_digest(req2, esc, n2, sealed, pats, "patient_id", salt))
    b2 = body(sig2)
    st, ans = http(urls[2] + "/v1/exchange/inputs/" + req2, "POST", b2)
    t.ok(st == 403 and ans["error"]["code"] == "LB_EDENIED" and
         "unapproved algorithm" in ans["error"]["message"],
         "a delivery for a request its owner has not approved is refused (403)", ans)
    t.ok(not os.path.exists(os.path.join(cluster, "node-2", "exchange", "inputs",
                                         req + ".json")) and
         not os.path.exists(os.path.join(cluster, "node-2", "exchange", "inputs",
                                         req2 + ".json")),
         "refused deliveries store nothing")
    st, ans = http(urls[2] + "/v1/exchange/inputs/" + req)
    t.ok(st == 404 and ans["error"]["code"] == "LB_ENOTFOUND",
         "GET of an input never delivered: 404", ans)
    r = cli(e, cluster, 2, ["exchange", "run", "--from", "node", "--request", req,
                            "--escrow", esc])
    t.ok(r.returncode == 1 and "no input was delivered" in r.stderr,
         "a run with no delivered input is refused with a hint", r.stderr)
    st, ev = http(urls[1] + "/v1/exchange/escrows/" + esc)
    t.eq((ev["status"], bal(n2)["asc"]), ("open", 0),
         "nothing was charged: the escrow is still open, institution-2 got nothing more")


if __name__ == "__main__":
    main()
