#!/usr/bin/env python3
"""Anchoring blocks and a lost quorum on a three-member etcd consortium (scripts/cluster.sh),
through the real CLI.

On a quiet consortium (no traffic but the test's own txs), `exchange offer` right after the
asset's directory registration and `keys reset` with its follow-up to the settlement and
directory chains finish: the nodes make the anchoring blocks themselves (an anchor marker in
etcd's stream makes every member cut the same empty block). Every member then holds the same
blocks (hash by hash, empty ones included); a member that was stopped while such a block was cut
replays it from the stream and holds the same blocks again; `leben verify` replays each node's
chains.

With two of the three etcd members stopped, `leben tx` says that the node is running but its
consortium ordering cannot store txs, names the etcd members that do not answer, and does not
advise starting the node; ordering resumes when they are back."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import BIN, ROOT, Tap, cluster_env, http_json, install_tls, read_cluster_env, wait_for  # noqa: E402

PASS = "cluster-anchor-test"
CHAINS = ("settlement", "directory", "business")


def env():
    return cluster_env(PASS)


def http(url, timeout=30):
    return http_json(url, timeout=timeout)


read_env = read_cluster_env


def cli(home, args, node=None, timeout=300):
    extra = ["--home", home] + (["--node", node] if node else [])
    return subprocess.run([BIN] + args + extra, capture_output=True, text=True, env=env(),
                          timeout=timeout)


def main():
    t = Tap()
    d = tempfile.mkdtemp(prefix="leben-anchor-it-")
    script = os.path.join(ROOT, "scripts", "cluster.sh")
    r = subprocess.run([script, "up", "3", d], capture_output=True, text=True, env=env(),
                       timeout=300)
    apis = [l.split(" ", 1)[1] for l in r.stdout.splitlines() if l.startswith("api: ")]
    if not t.ok(r.returncode == 0 and len(apis) == 3, "cluster.sh up 3", r.stdout + r.stderr):
        subprocess.run([script, "down", d], env=env())
        t.done()
    install_tls(os.path.join(d, "node-1", "tls"))
    try:
        run(t, d, apis, script)
    finally:
        r = subprocess.run([script, "down", d], capture_output=True, text=True, env=env(),
                           timeout=180)
        t.ok(r.returncode == 0, "cluster.sh down", r.stderr)
    for i in (1, 2, 3):
        r = subprocess.run([BIN, "verify", "--home", os.path.join(d, "node-%d" % i)],
                           capture_output=True, text=True, env=env(), timeout=300)
        t.ok(r.returncode == 0, "leben verify replays node-%d's chains (empty blocks included)"
             % i, r.stdout + r.stderr)
    if t.failed:
        print("# kept %s for inspection" % d)
    else:
        shutil.rmtree(d, ignore_errors=True)
    t.done()


def heights(api):
    st, j = http(api + "/v1/chains")
    return {c["name"]: c["height"] for c in j["chains"]} if st == 200 else None


def run(t, d, apis, script):
    home = os.path.join(d, "node-1")

    # -- exchange offer right after the registration: the business chain anchors it itself
    data = os.path.join(d, "quiet.csv")
    open(data, "w").write("patient_id,age\nP1,40\nP2,41\n")
    r = cli(home, ["tx", "asset-register", "--from", "clinic", "--content-file", data, "--wait",
                   "--timeout", "120", "--json"])
    reg = json.loads(r.stdout) if r.returncode == 0 else None
    if t.ok(reg is not None, "asset registered on the directory chain", r.stderr):
        start = time.time()
        r = cli(home, ["exchange", "offer", "--from", "clinic", "--asset-tx", reg["id"],
                       "--price", "1", "--timeout", "120"])
        t.ok(r.returncode == 0, "exchange offer on a quiet consortium (%.1f s)"
             % (time.time() - start), r.stdout + r.stderr)

    # -- keys reset with the follow-up, asked of another member's node
    sec = os.path.join(d, "secret")
    open(sec, "w").write("cobalt-orchard-58-signal-prairie\n")
    r = cli(home, ["keys", "recovery-commit", "bob", "--secret-file", sec, "--ops", "1",
                   "--mem-kib", "8192"], node=apis[1])
    t.ok(r.returncode == 0, "bob records a recovery commitment (through node 2)", r.stderr)
    bob = json.load(open(os.path.join(home, "keys", "bob.key")))["address"]
    start = time.time()
    r = cli(home, ["keys", "reset", "bobnew", "--account", bob, "--secret-file", sec,
                   "--timeout", "150", "--json"], node=apis[1])
    out = json.loads(r.stdout) if r.returncode == 0 else None
    t.ok(out is not None and all(out["follow"][c]["status"] == "followed"
                                 for c in ("settlement", "directory")),
         "keys reset is carried to settlement and directory on a quiet consortium (%.1f s)"
         % (time.time() - start), r.stdout + r.stderr)

    # -- every member holds the same blocks, empty anchoring blocks included
    def same_heights():
        hs = [heights(a) for a in apis]
        return hs[0] if hs[0] and all(h == hs[0] for h in hs) else None

    def compare(what):
        hs = wait_for(same_heights, 120)
        t.ok(hs is not None, "the three nodes reach the same heights (%s)" % what,
             [heights(a) for a in apis])
        diff, empty = [], 0
        for c in CHAINS:
            for h in range(1, (hs or {}).get(c, 0) + 1):
                blocks = [http("%s/v1/chains/%s/blocks/%d" % (a, c, h))[1] for a in apis]
                if any(b is None for b in blocks) or len({b["hash"] for b in blocks}) != 1:
                    diff.append((c, h))
                elif blocks[0]["tx_count"] == 0:
                    empty += 1
        t.ok(hs is not None and not diff, "every block is the same on the three nodes (%s)"
             % what, diff)
        return empty

    empty = compare("after the offer and the reset")
    t.ok(empty >= 2, "the anchoring blocks are empty blocks every member cut alike (%d)" % empty)

    # -- a member that was down while an anchoring block was cut replays it from the stream
    subprocess.run([script, "stop-node", d, "3"], env=env(), timeout=60)
    r = cli(home, ["tx", "asset-register", "--from", "alice", "--content-hash", "ef" * 32,
                   "--wait", "--timeout", "120", "--json"])
    reg2 = json.loads(r.stdout) if r.returncode == 0 else None
    r2 = cli(home, ["exchange", "offer", "--from", "alice", "--asset-tx", reg2["id"], "--price",
                    "1", "--timeout", "120"]) if reg2 else r
    t.ok(r2.returncode == 0, "another offer on a quiet consortium while node 3 is down",
         r.stderr + r2.stderr)
    r = subprocess.run([script, "start-node", d, "3"], capture_output=True, text=True, env=env(),
                       timeout=180)
    t.ok(r.returncode == 0, "node 3 starts again", r.stderr)
    after = compare("node 3 back, having replayed the anchor marker")
    t.ok(after > empty, "node 3 holds the empty block cut while it was down (%d > %d)"
         % (after, empty))

    # -- the quorum lost: two of the three etcd members stopped
    ce = read_env(d)
    gone = ["https://127.0.0.1:%s" % ce["ETCD_CLIENT_%d" % i] for i in (2, 3)]
    for i in (2, 3):
        subprocess.run([script, "stop-etcd", d, str(i)], env=env(), timeout=60)
    try:
        def surveyed():
            st, s = http(apis[0] + "/v1/status")
            o = s.get("ordering", {}) if st == 200 else {}
            return o if o.get("available") is False and o.get("members") else None

        o = wait_for(surveyed, 120)
        t.ok(o is not None and all(g in o["members"] for g in gone),
             "/v1/status names the etcd members that do not answer", o)
        r = cli(home, ["tx", "record", "--from", "alice", "--kind", "k", "--subject", "s"])
        for line in r.stderr.splitlines():
            print("# " + line, flush=True)
        t.ok(r.returncode == 1 and "this node is running" in r.stderr
             and all(g in r.stderr for g in gone) and "start the node" not in r.stderr
             and "resumes by itself [LB_EUNAVAILABLE]" in r.stderr,
             "leben tx: the node is up, its ordering has no quorum, these members do not "
             "answer (no advice to start the node)", r.stderr)
    finally:
        for i in (2, 3):
            subprocess.run([script, "start-etcd", d, str(i)], env=env(), timeout=60)

    def up():
        return all((http(a + "/v1/status")[1] or {}).get("ordering", {}).get("available")
                   for a in apis)

    t.ok(wait_for(up, 120), "ordering resumes once the members are back")


if __name__ == "__main__":
    main()
