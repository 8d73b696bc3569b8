#!/usr/bin/env python3
"""Certificates signed by several CA holders, on a real three-member etcd consortium
(scripts/cluster.sh): the members co-sign certificates' public keys on the chain
(`leben governance cosign`, tx ca.cosign); a node with `tls_cosigned` accepts on its API and its
peer link only certificates co-signed by as many members as a vote needs (2 of 3):

- attack: a certificate the CA issued but only one member co-signed, and one nobody co-signed,
  are refused by the API (403 naming the count) and by the peer link (failed handshake);
  certificates co-signed by two members are accepted;
- a non-member cannot co-sign; a member cannot co-sign twice;
- once a second member co-signs, the same certificate is accepted without a restart;
- `leben governance cert` shows who co-signed and whether it is accepted."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import CLUSTER_SH as SCRIPT, Tap, cluster_cli, cluster_env, handshake, http_json, read_cluster_env, run_cluster, tls_context, tls_files, wait_for  # noqa: E402

PASS = "cosign-test"


def env():
    return cluster_env(PASS)


def cli(args, home=None, api=None, timeout=180):
    return cluster_cli(env(), args, home, api, timeout)


def main():
    run_cluster(Tap(), "leben-cosign-it-", env(), run)


def run(t, d, apis):
    ce = read_cluster_env(d)
    home = {i: os.path.join(d, "node-%d" % i) for i in (1, 2, 3)}
    pem = {i: os.path.join(home[i], "tls", "node.pem") for i in (1, 2, 3)}

    def cosign(signer, cert, api=None):
        return cli(["governance", "cosign", "--cert", cert, "--from", "node", "--wait"],
                   home[signer], api or apis[signer - 1])

    # members 1 and 2 co-sign the certificates of nodes 1 and 2; node 3's only by member 3
    for signer in (1, 2):
        for owner in (1, 2):
            r = cosign(signer, pem[owner])
            t.ok(r.returncode == 0 and "Committed" in r.stdout,
                 "member %d co-signs node-%d's certificate" % (signer, owner), r.stdout + r.stderr)
    r = cosign(3, pem[3])
    t.ok(r.returncode == 0, "member 3 co-signs its own certificate", r.stdout + r.stderr)
    r = cosign(1, pem[1])
    t.ok(r.returncode != 0 and "LB_EEXISTS" in r.stdout + r.stderr,
         "a member cannot co-sign the same certificate twice", r.stdout + r.stderr)
    r = cli(["governance", "cosign", "--cert", pem[3], "--from", "alice", "--wait"], home[1],
            apis[0])
    t.ok(r.returncode != 0 and "not a consortium member" in r.stdout + r.stderr,
         "a key that is not a member's cannot co-sign", r.stdout + r.stderr)
    r = cli(["governance", "cert", "--cert", pem[3], "--json"], home[1], apis[0])
    j = json.loads(r.stdout) if r.returncode == 0 else {}
    t.ok(j.get("current") == 1 and j.get("needed") == 2 and j.get("accepted") is False,
         "governance cert: node-3's certificate is co-signed by 1 of the 2 needed", r.stdout)
    # a certificate the CA issues without anyone co-signing it
    rogue = os.path.join(d, "rogue")
    r = cli(["ca", "issue", "--dir", os.path.join(d, "ca"), "--name", "rogue", "--out", rogue])
    t.eq(r.returncode, 0, "the CA holder alone issues a certificate 'rogue'")

    # node 1 accepts only co-signed certificates from now on
    cfg = os.path.join(home[1], "config.json")
    c = json.load(open(cfg))
    c["tls_cosigned"] = True
    json.dump(c, open(cfg, "w"), indent=2)
    subprocess.run([SCRIPT, "stop-node", d, "1"], env=env(), timeout=60)
    subprocess.run([SCRIPT, "start-node", d, "1"], env=env(), timeout=60)
    ctx = {i: tls_context(os.path.join(home[i], "tls")) for i in (1, 2, 3)}
    ctx["rogue"] = tls_context(rogue)
    st = wait_for(lambda: http_json(apis[0] + "/v1/status", ctx=ctx[1])[0] == 200, 60)
    t.ok(st, "node 1 restarted with tls_cosigned; node-1's co-signed certificate is accepted")
    st, _ = http_json(apis[0] + "/v1/status", ctx=ctx[2])
    t.eq(st, 200, "node-2's certificate (co-signed by 2 members) is accepted by node 1's API")
    st, j = http_json(apis[0] + "/v1/status", ctx=ctx[3])
    msg = json.dumps(j)
    t.ok(st == 403 and "co-signed by 1 of the 2" in msg,
         "attack: node-3's certificate, co-signed by 1 member, is refused by the API", (st, j))
    st, j = http_json(apis[0] + "/v1/status", ctx=ctx["rogue"])
    t.ok(st == 403 and "co-signed by 0 of the 2" in json.dumps(j),
         "attack: a certificate only the CA signed is refused by the API", (st, j))
    st, _ = http_json(apis[1] + "/v1/status", ctx=ctx["rogue"])
    t.eq(st, 200, "node 2 (without tls_cosigned) still takes any certificate of the CA")
    peer = ce["NODE_PEER_1"]
    t.ok(not handshake(peer, tls_files(rogue)),
         "attack: node 1's peer link refuses the certificate nobody co-signed")
    t.ok(not handshake(peer, tls_files(os.path.join(home[3], "tls"))),
         "attack: node 1's peer link refuses node-3's certificate (1 co-signature)")
    t.ok(handshake(peer, tls_files(os.path.join(home[2], "tls"))),
         "node 1's peer link accepts node-2's co-signed certificate")

    # a second member co-signs node-3's certificate: accepted, no restart
    r = cosign(2, pem[3])
    t.ok(r.returncode == 0, "member 2 co-signs node-3's certificate too", r.stdout + r.stderr)
    ok = wait_for(lambda: http_json(apis[0] + "/v1/status", ctx=ctx[3])[0] == 200, 30)
    t.ok(ok, "node 1's API now accepts node-3's certificate (2 of 2 co-signatures)")
    t.ok(wait_for(lambda: handshake(peer, tls_files(os.path.join(home[3], "tls"))), 30),
         "... and so does its peer link")
    r = cli(["governance", "cert", "--cert", pem[3]], home[1], apis[0])
    t.ok(r.returncode == 0 and "co-signed by 2 of the 2" in r.stdout and "accepted" in r.stdout,
         "governance cert says it is accepted and lists both co-signers", r.stdout + r.stderr)


if __name__ == "__main__":
    main()
