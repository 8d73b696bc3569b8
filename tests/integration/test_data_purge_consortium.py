#!/usr/bin/python3
"""Verifiable purge across a local consortium of three institutions (scripts/cluster.sh up 3:
etcd ordering, mutual TLS), after examples/exchange-consortium.sh: the clinic's table was
delivered sealed to institution-2 (off-site run) and institution-3 (integrated run).

Institution-3's node is stopped; the clinic purges the asset. The request names the clinic
and both executors (found on the business chain); the clinic's vault object and
institution-2's delivered input are destroyed at once and answered by receipts naming their
BLAKE2b-256 (computed here from the files before the purge); institution-3 is reported late
after the deadline; restarted, its node sees the request it missed, destroys its input and
answers: the purge is complete. Attacks after the purge: the inputs are gone at both
executors (GET 404), a run at institution-2 and a new delivery are refused naming the purge,
`data get` at the clinic is refused, the stolen vault ciphertext does not open; every node's
`leben verify` passes."""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import (BIN, ROOT, Tap, cluster_env, http_json, install_tls,  # noqa: E402
                       read_cluster_env, wait_for)

PASS = "cluster"
http = http_json


def b2(data):
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix="leben-purge-cons-")
    cluster = os.path.join(work, "cluster")
    e = cluster_env(PASS, CLUSTER=cluster, KEEP="1")
    try:
        run(t, e, cluster)
    finally:
        subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "down", cluster],
                       env=e, capture_output=True, timeout=120)
        subprocess.run(["rm", "-rf", work])
    t.done()


def run(t, e, cluster):
    r = subprocess.run([os.path.join(ROOT, "examples", "exchange-consortium.sh")], env=e,
                       capture_output=True, text=True, timeout=600)
    if not t.ok(r.returncode == 0, "examples/exchange-consortium.sh runs to the end",
                (r.stdout[-3000:] + r.stderr[-3000:])):
        return
    ce = read_cluster_env(cluster)
    install_tls(os.path.join(cluster, "node-1", "tls"))
    urls = {i: ce["NODE_API_%d" % i] for i in (1, 2, 3)}
    home = {i: os.path.join(cluster, "node-%d" % i) for i in (1, 2, 3)}

    def cli(i, args, url=None):
        return subprocess.run([BIN] + args + ["--home", home[i], "--node", url or urls[i]],
                              env=e, capture_output=True, text=True, timeout=300)

    def addr(i, name):
        r = subprocess.run([BIN, "keys", "show", name, "--home", home[i], "--json"], env=e,
                           capture_output=True, text=True)
        return json.loads(r.stdout)["address"]

    n2, n3, clinic = addr(2, "node"), addr(3, "node"), addr(1, "clinic")
    reqs = {s: open(os.path.join(cluster, "request-" + s)).read().strip()
            for s in ("off-site", "integrated")}
    asset = http(urls[1] + "/v1/exchange/requests/" + reqs["off-site"])[1]["asset"]
    inputs = {2: os.path.join(home[2], "exchange", "inputs", reqs["off-site"] + ".json"),
              3: os.path.join(home[3], "exchange", "inputs", reqs["integrated"] + ".json")}
    digests = {i: b2(open(p, "rb").read()) for i, p in inputs.items() if os.path.exists(p)}
    t.eq(sorted(digests), [2, 3], "each executor holds the input delivered to it")
    entry = json.load(open(os.path.join(home[1], "data", "assets.json")))["assets"][asset]
    ref = entry["vault"]
    obj = os.path.join(home[1], "vault", ref[:2], ref + ".lbo")
    stolen = open(obj, "rb").read()

    # ---- institution-3 is down when the clinic purges ------------------------------------------
    subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "stop-node", cluster, "3"],
                   env=e, capture_output=True, timeout=60)
    r = cli(1, ["data", "purge", asset, "--key", "clinic", "--deadline", "2", "--reason",
                "registry closed", "--json"])
    p = json.loads(r.stdout) if r.returncode == 0 else {}
    t.ok(r.returncode == 0 and sorted(p.get("holders", [])) == sorted([n2, n3]) and
         p.get("destroyed_here") == [ref] and p.get("receipt"),
         "the clinic purges: the executors are found on the business chain, its vault object "
         "is destroyed, its receipt sent", r.stdout + r.stderr)
    t.ok(not os.path.exists(obj), "the clinic's vault object is gone")

    def status(wait=0):
        r = cli(1, ["data", "purge-status", asset, "--wait", str(wait), "--json"])
        try:
            s = json.loads(r.stdout)
        except ValueError:
            return r, {}
        return r, {h["holder"]: h for h in s["requests"][0]["holders"]}

    wait_for(lambda: status()[1].get(n2, {}).get("status") == "answered", 30)
    r, hs = status()
    t.ok(hs.get(clinic, {}).get("status") == "answered" and
         hs.get(n2, {}).get("status") == "answered" and hs.get(n3, {}).get("status") != "answered",
         "the clinic and institution-2 answered; institution-3 (down) has not", hs)
    t.ok(not os.path.exists(inputs[2]), "institution-2's node destroyed the input it held")
    # the directory chain moves on past the deadline: institution-3 is late
    for n in range(3):
        f = os.path.join(cluster, "note%d.csv" % n)
        with open(f, "w") as fh:
            fh.write("patient_id,x\nZ%d,%d\nY%d,%d\n" % (n, n, n, n + 7))
        cli(1, ["data", "add", f])
    r, hs = status()
    t.ok(r.returncode == 3 and hs.get(n3, {}).get("status") == "late",
         "purge-status: institution-3 is late (exit 3)", r.stdout + r.stderr)
    rtx = []
    for h in range(1, http(urls[1] + "/v1/status")[1]["chains"]["directory"]["height"] + 1):
        rtx += [x for x in http(urls[1] + "/v1/chains/directory/blocks/%d" % h)[1]["txs"]
                if x["type"] == "data.purge.receipt"]
    by = {x["sender"]: x["payload"]["objects"] for x in rtx}
    t.ok(by.get(n2) == [digests[2]] and by.get(clinic) == [ref],
         "the receipts name what was destroyed: institution-2's input (blake2b of the file), "
         "the clinic's vault object", by)

    # ---- institution-3 restarts and answers the request it missed --------------------------------
    subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "start-node", cluster, "3"],
                   env=e, capture_output=True, timeout=60)
    r, hs = status(wait=30)
    t.ok(r.returncode == 0 and hs.get(n3, {}).get("status") == "answered",
         "after its restart institution-3 answered: the purge is complete", r.stdout + r.stderr)
    t.ok(not os.path.exists(inputs[3]), "institution-3's node destroyed the input it held")
    rtx = []
    for h in range(1, http(urls[1] + "/v1/status")[1]["chains"]["directory"]["height"] + 1):
        rtx += [x for x in http(urls[1] + "/v1/chains/directory/blocks/%d" % h)[1]["txs"]
                if x["type"] == "data.purge.receipt" and x["sender"] == n3]
    t.ok(len(rtx) == 1 and rtx[0]["payload"]["objects"] == [digests[3]],
         "institution-3's receipt names its input's hash, once", rtx)

    # ---- attacks after the purge -------------------------------------------------------------------
    for i, s in ((2, "off-site"), (3, "integrated")):
        st, j = http(urls[i] + "/v1/exchange/inputs/" + reqs[s])
        t.ok(st == 404, "institution-%d serves no input any more" % i, j)
    st, j = http(urls[2] + "/v1/exchange/check",
                 "POST", {"request": reqs["off-site"], "executor": n2, "patients": []})
    t.ok(st == 403 and "was purged on" in j["error"]["message"] and
         "owner's request" in j["error"]["message"],
         "a run at institution-2 is refused naming the purge", j)
    r = cli(1, ["exchange", "send", "--from", "clinic", "--request", reqs["off-site"],
                "--escrow", "00" * 32, "--data", os.path.join(cluster, "cohort.csv"),
                "--to", urls[2]])
    t.ok(r.returncode != 0 and not os.path.exists(inputs[2]),
         "a new delivery of the purged asset stores nothing", r.stderr)
    r = cli(1, ["data", "get", asset, "--out", os.path.join(cluster, "x.csv"), "--key", "clinic"])
    t.ok(r.returncode == 1 and "was purged on" in r.stderr, "data get at the clinic is refused",
         r.stderr)
    with open(obj, "wb") as f:
        f.write(stolen)
    r = cli(1, ["data", "get", ref, "--out", os.path.join(cluster, "y.csv")])
    t.ok(r.returncode == 1 and not os.path.exists(os.path.join(cluster, "y.csv")),
         "the stolen ciphertext put back opens with nothing", r.stderr)
    for i in (1, 2, 3):
        st, s = http(urls[i] + "/v1/data/purges/" + asset)
        t.ok(st == 200 and s["purged"] and s["requests"][0]["complete"],
             "institution-%d's node shows the purge complete" % i, s)
        r = subprocess.run([BIN, "verify", "--home", home[i]], env=e, capture_output=True,
                           text=True, timeout=120)
        t.ok(r.returncode == 0, "leben verify at institution-%d" % i, r.stdout + r.stderr)


if __name__ == "__main__":
    main()
