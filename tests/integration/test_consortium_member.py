#!/usr/bin/env python3
"""Membership takes effect, on a real three-member etcd consortium (scripts/cluster.sh):

- rules: a `propose rules` vote changes the vote periods on every node; a proposal open
  longer than the new maximum is refused;
- node-key rotation: member 2 moves to a new node key (`governance rekey`) while the network
  runs; its old key is refused on every node; with the new key installed and the node
  restarted it is still the member and publishes checkpoints;
- removal: member 3 (which vouched for an account) is voted out; every node then refuses txs
  signed by its node key and by the account it vouched for; the same tx written straight into
  etcd (bypassing admission, as a removed member still holding etcd access could) is committed
  as invalid at the same height on every node; node 3 stops publishing checkpoints;
  `leben ca revoke` + the CRL installed everywhere make node 1's API, node 1's peer link and
  etcd refuse node 3's certificate while accepting node 1's; `governance etcd remove` takes e3
  out of etcd's membership; the two remaining members go on ordering, with equal hashes;
- admission: a new institution is voted in, the member side (`governance admit-node`) issues its
  certificates, adds its etcd member as a learner and co-signs the certificate on the chain (a
  second member co-signs it with `governance cosign`), the new side (`governance join`) starts
  etcd, waits until etcd promotes it to a voting member, starts its node from a snapshot, and
  the node is a member with the same chains as the others;
- `leben verify` replays the nodes' chains."""

import base64
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import CLUSTER_SH as SCRIPT, Tap, cluster_cli, cluster_env, free_port, handshake, http_json, read_cluster_env, run_cluster, tls_context, tls_files, tls_refused, wait_for  # noqa: E402

PASS = "member-test"


def env():
    return cluster_env(PASS, LEBEN_CLUSTER_CHECKPOINT="2")


http = http_json
read_env = read_cluster_env


def cli(args, home=None, api=None, timeout=180):
    return cluster_cli(env(), args, home, api, timeout)


def addr_of(home, key="node"):
    return json.load(open(os.path.join(home, "keys", key + ".key")))["address"]


def sign_record(home, api, key):
    r = cli(["tx", "record", "--from", key, "--kind", "member-test", "--subject", "s",
             "--data", key, "--print"], home, api)
    if r.returncode != 0:
        raise RuntimeError("signing failed: " + r.stderr)
    return r.stdout.split()[0]


def tx_id(hexstr):
    import hashlib
    return hashlib.blake2b(bytes.fromhex(hexstr), digest_size=32).hexdigest()


def post_tx(api, hexstr):
    return http(api + "/v1/txs", "POST", {"tx": hexstr})


def verify_homes(t, d):
    for i in (1, 2, 4):
        h = os.path.join(d, "node-%d" % i)
        if not os.path.isdir(os.path.join(h, "chains")):
            continue
        r = cli(["verify"], h, timeout=300)
        t.ok(r.returncode == 0, "leben verify replays node-%d's chains" % i, r.stdout + r.stderr)


def main():
    run_cluster(Tap(), "leben-member-it-", env(), run, after=verify_homes)


def members(api):
    st, j = http(api + "/v1/members")
    return j if st == 200 else None


def tx_status(api, txid):
    st, j = http(api + "/v1/txs/" + txid)
    return j if st == 200 else None


def committed(api, txid):
    j = tx_status(api, txid)
    return j if j and j.get("status") in ("committed", "invalid") else None


def run(t, d, apis):
    ce = read_env(d)
    home = {i: os.path.join(d, "node-%d" % i) for i in (1, 2, 3)}
    a1, a2, a3 = (addr_of(home[i]) for i in (1, 2, 3))

    # ---- rules changed by vote --------------------------------------------------------------
    r = cli(["governance", "propose", "rules", "--threshold", "2/3", "--vote-blocks-default",
             "40", "--vote-blocks-max", "400", "--from", "node", "--wait", "--json"],
            home[1], apis[0])
    t.ok(r.returncode == 0, "propose rules (vote periods 40 / 400 blocks)", r.stdout + r.stderr)
    pid = json.loads(r.stdout)["id"] if r.returncode == 0 else ""
    r = cli(["governance", "vote", pid, "yes", "--from", "node", "--wait"], home[2], apis[1])
    t.ok(r.returncode == 0 and "Committed" in r.stdout, "member 2 votes yes: passes", r.stdout + r.stderr)
    ok = wait_for(lambda: all((members(a) or {}).get("rules", {}).get("vote_blocks_max") == 400
                              for a in apis), 60)
    t.ok(ok, "every node shows the new rules (vote_blocks_max 400)",
         [members(a).get("rules") for a in apis])
    r = cli(["governance", "propose", "remove", "--member", a3, "--from", "node",
             "--expires-in", "600", "--wait"], home[1], apis[0])
    t.ok(r.returncode != 0 and "at most 400" in (r.stdout + r.stderr),
         "a proposal open longer than the new maximum is refused", r.stdout + r.stderr)
    r = cli(["governance", "members"], home[1], apis[0])
    t.ok("rules: 2/3" in r.stdout and "40 business blocks" in r.stdout,
         "governance members prints the rules", r.stdout)

    # ---- vouching ---------------------------------------------------------------------------
    r = cli(["keys", "new", "patient3"], home[3])
    t.eq(r.returncode, 0, "keys new patient3 (an account of institution 3)")
    p3 = addr_of(home[3], "patient3")
    r = cli(["governance", "vouch", p3, "--from", "node", "--wait"], home[3], apis[2])
    t.ok(r.returncode == 0 and "Committed" in r.stdout, "member 3 vouches for patient3",
         r.stdout + r.stderr)
    r = cli(["governance", "vouch", p3, "--from", "node", "--wait"], home[1], apis[0])
    t.ok(r.returncode != 0 and "LB_EEXISTS" in (r.stdout + r.stderr),
         "a second member cannot vouch for the same account", r.stdout + r.stderr)
    r = cli(["tx", "record", "--from", "patient3", "--kind", "k", "--subject", "s", "--data",
             "before", "--wait"], home[3], apis[2])
    t.eq(r.returncode, 0, "patient3's tx commits while its member is in the consortium")
    r = cli(["tx", "transfer", "--from", "alice", "--to", p3, "--amount", "10", "--asset",
             "csc", "--wait"], home[1], apis[0])
    t.eq(r.returncode, 0, "alice pays patient3 some CSC (settlement chain; fees are in CSC)")

    # ---- node-key rotation of member 2, network running ----------------------------------------
    r = cli(["keys", "new", "node2b"], home[2])
    t.eq(r.returncode, 0, "keys new node2b")
    old2 = sign_record(home[2], apis[1], "node")
    r = cli(["governance", "rekey", "--from", "node", "--new-key", "node2b", "--wait"],
            home[2], apis[1])
    t.ok(r.returncode == 0 and "Committed" in r.stdout, "governance rekey commits",
         r.stdout + r.stderr)
    for i, a in enumerate(apis):
        st, j = post_tx(a, old2)
        t.ok(st != 200 and "LB_EUNAUTH" in json.dumps(j),
             "node %d refuses a tx signed by member 2's old key" % (i + 1), j)
    shutil.copy(os.path.join(home[2], "keys", "node2b.key"),
                os.path.join(home[2], "keys", "node.key"))
    subprocess.run([SCRIPT, "stop-node", d, "2"], env=env(), timeout=60)
    subprocess.run([SCRIPT, "start-node", d, "2"], env=env(), timeout=60)

    def node2_member():
        st, s = http(apis[1] + "/v1/status")
        c = s.get("consortium", {}) if st == 200 else {}
        return c.get("member") and c

    c = wait_for(node2_member, 120)
    t.ok(c and c.get("member_address") == a2,
         "restarted with the new key, node 2 is still member %s" % a2, c)
    m = members(apis[0])
    t.ok(m and a2 in [x["address"] for x in m["members"]],
         "the member's address is unchanged by the rotation")

    # ---- removal of member 3 --------------------------------------------------------------------
    r3 = sign_record(home[3], apis[2], "node")      # signed before the removal
    r3b = sign_record(home[3], apis[2], "patient3")
    r = cli(["governance", "propose", "remove", "--member", a3, "--from", "node", "--wait",
             "--json"], home[1], apis[0])
    t.ok(r.returncode == 0, "member 1 proposes to remove member 3", r.stderr)
    pid = json.loads(r.stdout)["id"] if r.returncode == 0 else ""
    r = cli(["governance", "vote", pid, "yes", "--from", "node", "--wait", "--json"],
            home[2], apis[1])
    t.ok(r.returncode == 0, "member 2 votes yes (with its new key)", r.stdout + r.stderr)
    vote = json.loads(r.stdout)["id"] if r.returncode == 0 else ""
    hs = [wait_for(lambda a=a: committed(a, vote), 60) for a in apis]
    heights = [h.get("height") if h else None for h in hs]
    t.ok(len(set(heights)) == 1 and heights[0], "the removal is enacted at the same business "
         "height %s on every node" % heights[0], heights)
    ok = wait_for(lambda: all(a3 not in [x["address"] for x in (members(a) or {"members": [
        {"address": a3}]})["members"]] for a in apis), 60)
    t.ok(ok, "member 3 is gone from every node's member list")
    for i, a in enumerate(apis):
        st, j = post_tx(a, r3)
        t.ok(st != 200 and "removed by a governance vote" in json.dumps(j),
             "node %d refuses the removed member's node key" % (i + 1), j)
        st, j = post_tx(a, r3b)
        t.ok(st != 200 and "LB_EUNAUTH" in json.dumps(j),
             "node %d refuses the account it vouched for" % (i + 1), j)
    # the same tx written into etcd directly: committed invalid at one height everywhere
    st, s = http(apis[0] + "/v1/status")
    prefix = "/leben/%s/t/2/%s" % (s["network_id"][:16], tx_id(r3))
    ctx1 = tls_context(os.path.join(home[1], "tls"))
    eps = ce["ETCD_ENDPOINTS"].split(",")
    st, j = http(eps[0] + "/v3/kv/put", "POST",
                 {"key": base64.b64encode(prefix.encode()).decode(),
                  "value": base64.b64encode(bytes.fromhex(r3)).decode()}, ctx=ctx1)
    t.eq(st, 200, "the removed member's tx is written into etcd, bypassing admission")
    # more traffic so that a block is cut
    cli(["tx", "record", "--from", "alice", "--kind", "k", "--subject", "s", "--data", "x",
         "--wait"], home[1], apis[0])
    got = [wait_for(lambda a=a: committed(a, tx_id(r3)), 60) for a in apis[:2]]
    t.ok(all(g and g["status"] == "invalid" for g in got) and
         len(set(g["height"] for g in got)) == 1,
         "nodes 1 and 2 commit it as invalid at the same height (%s), above the removal" %
         (got[0] or {}).get("height"), got)
    t.ok(all(g and g["height"] > heights[0] for g in got), "after the enacting block")
    st, s3 = http(apis[2] + "/v1/status")
    t.ok(st == 200 and s3.get("consortium", {}).get("member") is False,
         "node 3 knows it is no longer a member (publishes no checkpoints)", s3.get("consortium"))

    # the settlement and directory chains follow the removal with no operator command: each
    # member node sends the follow-ups itself; the first one committed fixes the height
    alice = addr_of(home[1], "alice")

    def followed():
        fs = []
        for a in apis:
            st, j = http(a + "/v1/members/%s/removal" % a3)
            f = j.get("followed") or {} if st == 200 else {}
            if not f.get("settlement") or not f.get("directory"):
                return None
            fs.append((f["settlement"], f["directory"]))
        return fs
    fl = wait_for(followed, 120)
    t.ok(fl and len(set(fl)) == 1,
         "without any operator command the settlement and directory chains refuse the removed "
         "keys from the same heights on every node (settlement, directory): %s" % fl, fl)
    if fl:
        for ch, h in zip(("settlement", "directory"), fl[0]):
            hs2 = [http(a + "/v1/chains/%s/blocks/%d" % (ch, h))[1].get("hash") for a in apis]
            t.ok(len(set(hs2)) == 1 and hs2[0], "%s block %d is the same block on every node"
                 % (ch, h), hs2)
    # the manual command still works and changes nothing (a second follow-up is a no-op)
    fr = cli(["governance", "follow-removal", "--member", a3, "--from", "node", "--timeout",
              "120"], home[1], apis[0])
    t.ok(fr.returncode == 0 and "Done" in fr.stdout, "governance follow-removal after it: "
         "harmless", fr.stdout + fr.stderr)
    t.eq(followed(), fl, "the heights stay those of the first follow-up")
    pt = cli(["tx", "transfer", "--from", "patient3", "--to", alice, "--amount", "1",
              "--asset", "csc", "--print"], home[3], apis[0]).stdout.split()
    pa = cli(["tx", "asset-register", "--from", "node", "--content-hash", "ab" * 32,
              "--print"], home[3], apis[0]).stdout.split()
    for i, a in enumerate(apis):
        st, j = post_tx(a, pt[0]) if pt else (0, "not signed")
        t.ok(st != 200 and "LB_EUNAUTH" in json.dumps(j),
             "node %d: the settlement chain now refuses patient3 too" % (i + 1), j)
        st, j = post_tx(a, pa[0]) if pa else (0, "not signed")
        t.ok(st != 200 and "removed by a governance vote" in json.dumps(j),
             "node %d: the directory chain refuses the removed member's node key" % (i + 1), j)

    # CRL: revoke node 3's and etcd 3's certificates, install the list everywhere
    r = cli(["ca", "revoke", "--dir", os.path.join(d, "ca"), "--home", home[3]])
    t.ok(r.returncode == 0 and "revoked" in r.stdout, "leben ca revoke node-3", r.stdout + r.stderr)
    r = cli(["ca", "revoke", "--dir", os.path.join(d, "ca"), "--cert",
             os.path.join(d, "etcd-3", "tls", "node.pem")])
    t.eq(r.returncode, 0, "leben ca revoke etcd-3")
    subprocess.run([SCRIPT, "crl", d], env=env(), timeout=60)
    ctx3 = tls_context(os.path.join(home[3], "tls"))
    t.ok(wait_for(lambda: tls_refused(apis[0] + "/v1/status", ctx3), 30),
         "node 1's API refuses node 3's revoked certificate (no restart)")
    st, _ = http(apis[0] + "/v1/status", ctx=ctx1)
    t.eq(st, 200, "node 1's API still accepts node 1's certificate")
    files = lambda i: tls_files(os.path.join(home[i], "tls"))  # noqa: E731
    t.ok(wait_for(lambda: not handshake(ce["NODE_PEER_1"], files(3)), 30),
         "node 1's peer link refuses node 3's certificate")
    t.ok(handshake(ce["NODE_PEER_1"], files(1)), "node 1's peer link accepts node 2's peers")
    t.ok(wait_for(lambda: tls_refused(eps[0] + "/v3/maintenance/status", ctx3), 30),
         "etcd refuses node 3's revoked certificate (--client-crl-file)")
    # etcd membership
    r = cli(["governance", "etcd", "remove", "e3"], home[1])
    t.ok(r.returncode == 0 and "removed" in r.stdout, "governance etcd remove e3",
         r.stdout + r.stderr)
    r = cli(["governance", "etcd", "list", "--json"], home[1])
    names = sorted(m.get("name", "") for m in json.loads(r.stdout)["members"]) \
        if r.returncode == 0 else None
    t.eq(names, ["e1", "e2"], "etcd's membership no longer holds e3")
    # the remaining members go on
    r = cli(["tx", "record", "--from", "alice", "--kind", "k", "--subject", "s", "--data",
             "after", "--wait"], home[1], apis[1])
    t.eq(r.returncode, 0, "a tx sent to node 2 commits after the removal")

    seen = {}

    def same_hashes():
        hts = []
        for a in apis[:2]:
            st, s = http(a + "/v1/status")
            hts.append(s["chains"]["business"]["height"])
        seen["heights"] = hts
        if hts[0] != hts[1]:
            return None
        for h in range(1, hts[0] + 1):
            b = [http(a + "/v1/chains/business/blocks/%d" % h)[1].get("hash") for a in apis[:2]]
            if b[0] != b[1]:
                seen["differ at"] = (h, b)
                return None
        return hts[0]

    # (a node still catching up on a loaded machine is no difference: the bound is generous)
    t.ok(wait_for(same_hashes, 180), "nodes 1 and 2 have the same business block hashes", seen)
    st, s2 = http(apis[1] + "/v1/status")
    c2 = s2.get("consortium", {}) if st == 200 else {}
    t.ok(c2.get("published", 0) >= 1, "node 2 publishes checkpoints signed with its new key",
         c2)
    st, s1 = http(apis[0] + "/v1/status")
    t.eq(s1.get("consortium", {}).get("alarm_count"), 0,
         "node 1 raised no checkpoint alarm (node 2's new-key checkpoints count as its)")

    admission(t, d, ce, apis, home)


def admission(t, d, ce, apis, home):
    """A new institution from scratch to a voting member."""
    h4 = os.path.join(d, "node-4")
    r = cli(["init", "--network", "leben-consortium"], h4)
    t.eq(r.returncode, 0, "the new institution makes its home (leben init)")
    a4 = addr_of(h4)
    r = cli(["governance", "propose", "admit", "--member", a4, "--name", "institution-4",
             "--kinds", "data,audit", "--from", "node", "--wait", "--json"], home[1], apis[0])
    t.ok(r.returncode == 0, "member 1 proposes to admit institution 4", r.stderr)
    pid = json.loads(r.stdout)["id"] if r.returncode == 0 else ""
    r = cli(["governance", "vote", pid, "yes", "--from", "node", "--wait"], home[2], apis[1])
    t.ok(r.returncode == 0 and "Committed" in r.stdout, "member 2 votes yes: admitted",
         r.stdout + r.stderr)
    cport, pport = free_port(), free_port()
    bundle = os.path.join(d, "join-4")
    r = cli(["governance", "admit-node", "--member", a4, "--name", "node-4", "--etcd-name",
             "e4", "--etcd-peer-url", "https://127.0.0.1:%d" % pport, "--etcd-client-url",
             "https://127.0.0.1:%d" % cport, "--ca", os.path.join(d, "ca"), "--out", bundle],
            home[1], apis[0])
    t.ok(r.returncode == 0 and "learner" in r.stdout and "[3/3]" in r.stdout,
         "existing member: governance admit-node issues certificates and adds an etcd learner, "
         "showing progress", r.stdout + r.stderr)
    r = cli(["governance", "cert", "--cert", os.path.join(bundle, "tls", "node.pem"), "--json"],
            home[1], apis[0])
    cj = json.loads(r.stdout) if r.returncode == 0 else {}
    t.ok(cj.get("name") == "node-4" and cj.get("current") == 1 and
         cj.get("cosigners") == [addr_of(home[1])], "admit-node co-signed the new certificate on the chain "
         "(1 of the %s CA holders' signatures it needs)" % cj.get("needed"), r.stdout + r.stderr)
    r = cli(["governance", "cosign", "--cert", os.path.join(bundle, "tls", "node.pem"), "--from",
             "node", "--wait"], home[2], apis[1])
    t.ok(r.returncode == 0 and "Committed" in r.stdout, "member 2 co-signs it too",
         r.stdout + r.stderr)
    r = cli(["governance", "etcd", "list", "--json"], home[1])
    lm = [m for m in json.loads(r.stdout)["members"] if m.get("isLearner")] \
        if r.returncode == 0 else []
    t.eq(len(lm), 1, "etcd lists one learner")
    r = cli(["governance", "join", "--bundle", bundle, "--etcd-data",
             os.path.join(d, "etcd-4", "data"), "--timeout", "240", "--api-port",
             str(free_port())], h4, timeout=300)
    for f, name in (("etcd.pid", "etcd-4"), ("node.pid", "node-4")):
        p = os.path.join(h4, f)
        if os.path.exists(p):
            shutil.copy(p, os.path.join(d, "pids", name + ".pid"))  # cluster.sh down stops it
    t.ok(r.returncode == 0 and "voting member" in r.stdout and "caught up" in r.stdout,
         "new institution: governance join starts etcd, is promoted and catches up",
         r.stdout + r.stderr)
    r = cli(["governance", "etcd", "list", "--json"], home[1])
    ms = json.loads(r.stdout)["members"] if r.returncode == 0 else []
    t.ok(sorted(m.get("name", "") for m in ms) == ["e1", "e2", "e4"] and
         not any(m.get("isLearner") for m in ms), "e4 is a voting etcd member", ms)
    api4 = None
    try:
        api4 = "https://127.0.0.1:%d" % json.load(open(os.path.join(h4, "config.json")))["api_port"]
    except (OSError, KeyError, ValueError):
        pass
    st, s4 = http(api4 + "/v1/status") if api4 else (0, {})
    t.ok(st == 200 and s4.get("consortium", {}).get("member") is True,
         "node 4 is a consortium member", s4.get("consortium") if isinstance(s4, dict) else s4)
    r = cli(["tx", "record", "--from", "alice", "--kind", "k", "--subject", "s", "--data",
             "after-admission", "--wait", "--json"], home[1], apis[0])
    txid = json.loads(r.stdout).get("id") if r.returncode == 0 else ""
    got = wait_for(lambda: api4 and committed(api4, txid), 60)
    t.ok(got and got.get("status") == "committed", "node 4 commits new txs from the stream", got)


if __name__ == "__main__":
    main()
