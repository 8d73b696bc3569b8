#!/usr/bin/env python3
"""CA rotation without stopping the network, on a real three-member etcd consortium
(scripts/cluster.sh): `leben ca rotate` makes a new CA and a trust bundle; (1) every etcd
member and node gets the bundle and its CRLs, restarted one at a time; (2) every certificate
is issued again from the new CA, restarted one at a time; (3) `leben ca retire`, the new CA
alone is installed, restarted one at a time. A client keeps sending txs to whichever node is
up during all of it; every acknowledged tx is committed exactly once on every node with the
same hashes; at the end a certificate of the old CA is refused by a node's API and by etcd,
and one of the new CA is accepted."""

import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import BIN, CLUSTER_SH as SCRIPT, Tap, cluster_env, http_json, read_cluster_env, run_cluster, wait_for  # noqa: E402

PASS = "rotate-test"


def env():
    return cluster_env(PASS, LEBEN_CLUSTER_CHECKPOINT="4")


def http(url, ctx, method="GET", body=None, timeout=20):
    return http_json(url, method, body, timeout, ctx)


read_env = read_cluster_env


def ctx_for(cafile, cert, key):
    c = ssl.create_default_context(cafile=cafile)
    c.load_cert_chain(cert, key)
    return c


def main():
    run_cluster(Tap(), "leben-rotate-it-", env(), run, tls_node=None)


def run(t, d, apis):
    ce = read_env(d)
    ca = os.path.join(d, "ca")
    both = os.path.join(d, "both-cas.pem")       # the test client trusts old and new
    old_cert = os.path.join(d, "old-node-1.pem")
    old_key = os.path.join(d, "old-node-1.key")
    shutil.copy(os.path.join(d, "node-1", "tls", "node.pem"), old_cert)
    shutil.copy(os.path.join(d, "node-1", "tls", "node.key"), old_key)
    tls1 = os.path.join(d, "node-1", "tls")

    def client():
        return ctx_for(both, os.path.join(tls1, "node.pem"), os.path.join(tls1, "node.key"))

    shutil.copy(os.path.join(ca, "ca.pem"), both)

    def ready(i):
        st, s = http(apis[i - 1] + "/v1/status", client())
        return st == 200 and s.get("ordering", {}).get("available")

    # the workload: one record tx at a time, to whichever node takes it
    acked, stop = [], threading.Event()

    def workload():
        n = 0
        while not stop.is_set():
            for i in (1, 2, 3):
                r = subprocess.run([BIN, "tx", "record", "--from", "alice", "--kind", "rot",
                                    "--subject", "s", "--data", "tx-%d" % n, "--json",
                                    "--home", os.path.join(d, "node-1"), "--node",
                                    apis[i - 1]], capture_output=True, text=True, env=env(),
                                   timeout=60)
                if r.returncode == 0:
                    try:
                        acked.append(json.loads(r.stdout)["id"])
                    except (ValueError, KeyError):
                        pass
                    n += 1
                    break
            time.sleep(0.3)

    r = subprocess.run([BIN, "ca", "rotate", "--dir", ca, "--name", "consortium-2"],
                       capture_output=True, text=True, env=env())
    t.ok(r.returncode == 0 and os.path.exists(os.path.join(ca, "trust.pem")),
         "leben ca rotate makes a new CA and the trust bundle", r.stdout + r.stderr)
    shutil.copy(os.path.join(ca, "trust.pem"), both)
    w = threading.Thread(target=workload)
    w.start()

    def rolling(step, install):
        for i in (1, 2, 3):
            install(i)
            subprocess.run([SCRIPT, "stop-etcd", d, str(i)], env=env(), timeout=60)
            subprocess.run([SCRIPT, "start-etcd", d, str(i)], env=env(), timeout=60)
            subprocess.run([SCRIPT, "stop-node", d, str(i)], env=env(), timeout=60)
            subprocess.run([SCRIPT, "start-node", d, str(i)], env=env(), timeout=60)
            ok = wait_for(lambda: ready(i), 120)
            t.ok(ok, "%s: member %d restarted and orders again" % (step, i))

    def install_trust(i):
        for sub in ("etcd-%d/tls" % i, "node-%d/tls" % i):
            shutil.copy(os.path.join(ca, "trust.pem"), os.path.join(d, sub, "ca.pem"))
            shutil.copy(os.path.join(ca, "crl.pem"), os.path.join(d, sub, "crl.pem"))

    rolling("1 trust both CAs", install_trust)

    def reissue(i):
        for args in (["--name", "etcd-%d" % i, "--out", os.path.join(d, "etcd-%d" % i, "tls")],
                     ["--name", "node-%d" % i, "--org", "institution-%d" % i, "--home",
                      os.path.join(d, "node-%d" % i)]):
            r = subprocess.run([BIN, "ca", "issue", "--dir", ca, "--replace"] + args,
                               capture_output=True, text=True, env=env())
            t.ok(r.returncode == 0, "ca issue %s from the new CA" % args[1], r.stderr)
        for sub in ("etcd-%d/tls" % i, "node-%d/tls" % i):
            shutil.copy(os.path.join(ca, "crl.pem"), os.path.join(d, sub, "crl.pem"))

    rolling("2 new certificates", reissue)
    r = subprocess.run([BIN, "ca", "retire", "--dir", ca], capture_output=True, text=True,
                       env=env())
    t.eq(r.returncode, 0, "leben ca retire")

    def install_new(i):
        for sub in ("etcd-%d/tls" % i, "node-%d/tls" % i):
            shutil.copy(os.path.join(ca, "ca.pem"), os.path.join(d, sub, "ca.pem"))
            shutil.copy(os.path.join(ca, "crl.pem"), os.path.join(d, sub, "crl.pem"))

    rolling("3 the new CA alone", install_new)
    time.sleep(1)
    stop.set()
    w.join()
    t.ok(len(acked) >= 10, "the client's txs were acknowledged throughout (%d)" % len(acked))

    def all_committed():
        for a in apis:
            for txid in acked:
                st, j = http(a + "/v1/txs/" + txid, client())
                if st != 200 or j.get("status") != "committed":
                    return None
        return True

    t.ok(wait_for(all_committed, 120), "every acknowledged tx is committed on every node")

    def same():
        for c in ("settlement", "directory", "business"):
            hs = [http(a + "/v1/status", client())[1]["chains"][c]["height"] for a in apis]
            if len(set(hs)) != 1:
                return None
            for h in range(1, hs[0] + 1):
                bl = {http("%s/v1/chains/%s/blocks/%d" % (a, c, h), client())[1].get("hash")
                      for a in apis}
                if len(bl) != 1:
                    return None
        return True

    t.ok(wait_for(same, 60), "every node has the same hash at every height")
    # the old CA is no longer trusted; the new one is
    old = ctx_for(both, old_cert, old_key)
    st, _ = http(apis[1] + "/v1/status", old)  # 0: the handshake failed
    refused = st in (0, 403)
    t.ok(refused, "node 2's API refuses a certificate of the old CA")
    st, _ = http(apis[1] + "/v1/status", client())
    t.eq(st, 200, "node 2's API accepts a certificate of the new CA")
    ep = ce["ETCD_ENDPOINTS"].split(",")[0]
    st, _ = http(ep + "/v3/maintenance/status", old, "POST", {})
    refused = st != 200
    t.ok(refused, "etcd refuses a certificate of the old CA")
    st, _ = http(ep + "/v3/maintenance/status", client(), "POST", {})
    t.eq(st, 200, "etcd accepts a certificate of the new CA")


if __name__ == "__main__":
    main()
