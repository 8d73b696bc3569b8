#!/usr/bin/env python3
"""Fault suite of the consortium (`make fault`): a 3-member cluster from scripts/cluster.sh,
a workload of concurrent clients submitting unique txs (one client per node; every tx from its
own fresh key, so no tx depends on another) and recording for each tx ok / failed / unknown,
and one fault per scenario. After each scenario a checker verifies:
  - all nodes agree on every block hash at every height of every chain;
  - every acknowledged tx is committed (valid) exactly once; unknown ones at most once;
  - nothing appears that was never submitted;
  - a tx acknowledged before another was submitted is ordered first.
Scenarios (each under 90 s): kill -9 and restart a node; kill -9 and restart an etcd member
(the leader); SIGSTOP a node, then SIGCONT; SIGSTOP the etcd leader longer than the election
timeout, then SIGCONT; etcd without quorum (two members paused), then back; one byte of a
block row of a stopped node's database damaged: it must come up refusing and say so while the
others go on, then rejoin once its databases are restored from a peer; member 3 (etcd and
node) cut off from the others by nftables rules for 8 s, then healed (class Partition).
Usage: fault_cluster.py [SCENARIO...]   (default: all). TAP output."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("LEBEN_ROOT") or os.path.abspath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("LEBEN_BIN") or os.path.join(ROOT, "build", "leben")
SIGNER = os.path.join(ROOT, "build", "bench", "bench_cluster")
SCRIPT = os.path.join(ROOT, "scripts", "cluster.sh")
CHAINS = ("settlement", "directory", "business")


def env():
    e = dict(os.environ)
    e["LEBEN_PASSPHRASE"] = "fault"
    e["LEBEN_BIN"] = BIN
    return e


def http(url, method="GET", body=None, timeout=15):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read())
        except ValueError:
            return e.code, None
    except (OSError, ValueError):
        return 0, None


def wait_for(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    return pred()


def in_cgroup(cg, argv):
    """argv run from a shell that first moves itself into cgroup v2 directory cg (so that
    everything it starts, and every socket they open, belongs to cg)."""
    return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg] + argv


class Cluster:
    def __init__(self, cgroup=None):
        self.dir = tempfile.mkdtemp(prefix="leben-fault-")
        argv = [SCRIPT, "up", "3", self.dir]
        r = subprocess.run(in_cgroup(cgroup, argv) if cgroup else argv, capture_output=True,
                           text=True, env=env(), timeout=180)
        if r.returncode:
            raise RuntimeError("cluster.sh up failed: " + r.stdout + r.stderr)
        self.env = {}
        for line in open(os.path.join(self.dir, "cluster.env")):
            k, _, v = line.strip().partition("=")
            self.env[k] = v
        self.apis = [self.env["NODE_API_%d" % i] for i in (1, 2, 3)]
        sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
        from lebentest import install_tls
        tls = os.path.join(self.dir, "node-1", "tls")
        install_tls(tls)  # the nodes' APIs answer members only (mutual TLS)
        os.environ.update({"LEBEN_TLS_CA": tls + "/ca.pem", "LEBEN_TLS_CERT": tls + "/node.pem",
                           "LEBEN_TLS_KEY": tls + "/node.key"})  # for the signer

    def pid(self, name):
        return int(open(os.path.join(self.dir, "pids", name + ".pid")).read())

    def restart(self, kind, i):
        subprocess.run([SCRIPT, "start-" + kind, self.dir, str(i)], env=env(), check=True)

    def etcd_leader(self):
        """Index (1..3) of the etcd leader, from the members' status."""
        ca = os.path.join(self.dir, "node-1", "tls")
        for i in (1, 2, 3):
            url = "https://127.0.0.1:%s/v3/maintenance/status" % self.env["ETCD_CLIENT_%d" % i]
            r = subprocess.run(["curl", "-s", "--max-time", "3", "--cacert", ca + "/ca.pem",
                                "--cert", ca + "/node.pem", "--key", ca + "/node.key", url,
                                "-d", "{}"], capture_output=True, text=True)
            try:
                j = json.loads(r.stdout)
            except ValueError:
                continue
            if j.get("leader") and j["leader"] == j["header"]["member_id"]:
                return i
        return 1

    def down(self):
        subprocess.run([SCRIPT, "down", self.dir], env=env(), capture_output=True, timeout=120)


class Workload:
    """One client thread per node, batches of 20 unique txs every 50 ms until stopped,
    outcome per tx."""

    def __init__(self, cluster, per_client):
        self.c = cluster
        self.txs = []
        r = subprocess.run([SIGNER, "sign", cluster.apis[0], str(3 * per_client)],
                           capture_output=True, text=True, timeout=120)
        if r.returncode:
            raise RuntimeError("signing failed: " + r.stderr)
        hexes = r.stdout.split()
        self.parts = [hexes[i::3] for i in range(3)]
        self.outcome = {}     # tx id -> "ok" | "failed" | "unknown"
        self.start = {}       # tx id -> submit start (monotonic)
        self.ack = {}         # tx id -> acknowledgement time
        self.submitted = set()
        self.lock = threading.Lock()
        self.stop = False
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(3)]

    def client(self, i):
        part = self.parts[i]
        for k in range(0, len(part), 20):
            if self.stop:
                return
            batch = part[k:k + 20]
            t0 = time.monotonic()
            st, j = http(self.c.apis[i] + "/v1/txs", "POST", {"txs": batch}, timeout=20)
            t1 = time.monotonic()
            with self.lock:
                if st == 200:
                    for res in j["results"]:
                        tid = res.get("id")
                        self.submitted.add(tid)
                        self.start[tid] = t0
                        if res["status"] == "pending":
                            self.outcome[tid] = "ok"
                            self.ack[tid] = t1
                        else:
                            self.outcome[tid] = "failed"
                else:
                    # refused before admission (ordering unavailable): failed; anything else
                    # (connection lost, timeout, 'may still be committed'): unknown
                    code = (j or {}).get("error", {}).get("code") if isinstance(j, dict) else None
                    msg = (j or {}).get("error", {}).get("message", "") if isinstance(j, dict) else ""
                    definite = st == 503 and (
                        (code == "LB_EUNAVAILABLE" and "nothing was accepted" in msg)
                        or code == "LB_ECORRUPT")   # a damaged node refuses before admission
                    for h in batch:
                        tid = tx_id(h)
                        self.submitted.add(tid)
                        self.start[tid] = t0
                        self.outcome[tid] = "failed" if definite else "unknown"
            time.sleep(0.05 if st == 200 else 0.2)

    def run(self):
        for th in self.threads:
            th.start()

    def join(self):
        for th in self.threads:
            th.join()


def tx_id(hexstr):
    import hashlib
    return hashlib.blake2b(bytes.fromhex(hexstr), digest_size=32).hexdigest()


def check(t, name, cluster, w):
    """The checker. Returns nothing; prints TAP lines."""
    apis = cluster.apis

    def settled():
        hs = []
        for a in apis:
            st, s = http(a + "/v1/status")
            if st != 200 or not s["ordering"]["available"] or any(
                    c["pending"] for c in s["chains"].values()):
                return None
            hs.append({c: s["chains"][c]["height"] for c in CHAINS})
        return hs if all(h == hs[0] for h in hs) else None

    heights = wait_for(settled, 60)
    t.ok(heights is not None, "%s: the nodes settle at the same heights" % name)
    if heights is None:
        return
    heights = heights[0]
    pos, same, diff = {}, True, None
    count = {}
    for c in CHAINS:
        for h in range(1, heights[c] + 1):
            blocks = [http("%s/v1/chains/%s/blocks/%d" % (a, c, h))[1] for a in apis]
            if any(b is None for b in blocks) or len({b["hash"] for b in blocks}) != 1:
                same = False
                diff = diff or (c, h)
                continue
            for k, tx in enumerate(blocks[0]["txs"]):
                if tx["valid"] and tx["type"] == "record":  # not the nodes' checkpoints
                    count[tx["id"]] = count.get(tx["id"], 0) + 1
                    pos.setdefault(tx["id"], (c, h, k))
    t.ok(same, "%s: every node has the same block hash at every height" % name, diff)
    ours = {i for i in count if i in w.submitted}
    acked = [i for i, o in w.outcome.items() if o == "ok"]
    lost = [i for i in acked if count.get(i, 0) != 1]
    t.ok(not lost, "%s: every acknowledged tx (%d) is committed exactly once" % (name, len(acked)),
         "%d lost or repeated" % len(lost))
    unknown = [i for i, o in w.outcome.items() if o == "unknown"]
    t.ok(all(count.get(i, 0) <= 1 for i in unknown),
         "%s: unknown txs (%d) are committed at most once (%d were)" % (
             name, len(unknown), sum(1 for i in unknown if count.get(i))))
    failed = [i for i, o in w.outcome.items() if o == "failed"]
    t.ok(not any(count.get(i) for i in failed),
         "%s: txs refused (%d) are never committed" % (name, len(failed)))
    extra = [i for i in count if i not in w.submitted and i not in w.baseline]
    t.ok(not extra, "%s: nothing appears that was never submitted" % name, extra[:3])
    # acknowledged before another was submitted => ordered first (all on the business chain)
    order = sorted((pos[i][1], pos[i][2], i) for i in ours if pos[i][0] == "business")
    bad, max_start = None, -1.0
    for _, _, i in order:
        if i in w.ack and max_start > w.ack[i]:
            bad = i
            break
        max_start = max(max_start, w.start.get(i, -1.0))
    t.ok(bad is None, "%s: a tx acknowledged before another was submitted is ordered first" % name,
         bad)


def committed_ids(cluster):
    ids = set()
    st, s = http(cluster.apis[0] + "/v1/status")
    for c in CHAINS:
        for h in range(1, s["chains"][c]["height"] + 1):
            b = http("%s/v1/chains/%s/blocks/%d" % (cluster.apis[0], c, h))[1]
            ids.update(tx["id"] for tx in b["txs"])
    return ids


# ---- scenarios: each gets the cluster and the running workload ----------------------------

def kill_node(c):
    os.kill(c.pid("node-1"), signal.SIGKILL)
    time.sleep(2)
    c.restart("node", 1)


def kill_etcd_leader(c):
    i = c.etcd_leader()
    os.kill(c.pid("etcd-%d" % i), signal.SIGKILL)
    time.sleep(3)
    c.restart("etcd", i)


def pause_node(c):
    p = c.pid("node-2")
    os.kill(p, signal.SIGSTOP)
    time.sleep(3)
    os.kill(p, signal.SIGCONT)


def pause_etcd_leader(c):
    p = c.pid("etcd-%d" % c.etcd_leader())
    os.kill(p, signal.SIGSTOP)
    time.sleep(4)   # election timeout is 1 s
    os.kill(p, signal.SIGCONT)


def no_quorum(c):
    ps = [c.pid("etcd-2"), c.pid("etcd-3")]
    for p in ps:
        os.kill(p, signal.SIGSTOP)
    time.sleep(8)
    for p in ps:
        os.kill(p, signal.SIGCONT)


def flip_block_byte(db_path, below_tip):
    """Corrupt one byte of a block row of a stopped node's chain database, in the file itself
    (as a failing disk would): the latest block's header, or with below_tip the body (txs) of
    the block under the tip. A 48-byte slice of the row's bytes is located in the file (a long
    row spans overflow pages, so slices are tried until one sits whole and once in the file)
    and its middle byte inverted. Returns the damaged height."""
    import sqlite3
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    tip = con.execute("SELECT max(height) FROM blocks").fetchone()[0]
    height = tip - 1 if below_tip else tip
    blob = con.execute("SELECT %s FROM blocks WHERE height=?" % ("body" if below_tip else "header"),
                       (height,)).fetchone()[0]
    con.close()
    data = bytearray(open(db_path, "rb").read())
    mid = len(blob) // 2
    offsets = [(0, len(blob))] + [(o, 48) for o in
                                  list(range(mid, len(blob) - 48, 97)) + list(range(0, mid, 97))]
    for off, n in offsets:
        piece = bytes(blob[off:off + n])
        at = data.find(piece)
        if at >= 0 and data.find(piece, at + 1) < 0:
            data[at + n // 2] ^= 0xFF
            with open(db_path, "r+b") as f:
                f.write(data)
            return height
    raise RuntimeError("no slice of block %d is stored whole and once in %s" % (height, db_path))


def corrupt_block(c, chain="settlement"):
    """Stop node-3, damage one byte of a block row in its chain database, restart it: it
    must refuse to serve and say which block is damaged, while nodes 1 and 2 go on. Then
    restore its chain databases from node-1 (SQLite's online backup), restart, and it catches
    up; the checker runs over all three afterwards."""
    import sqlite3
    home = os.path.join(c.dir, "node-3")
    log = os.path.join(home, "node.log")
    subprocess.run([SCRIPT, "stop-node", c.dir, "3"], env=env(), check=True,
                   capture_output=True, timeout=30)
    height = flip_block_byte(os.path.join(home, "chains", chain + ".db"), chain != "settlement")
    c.restart("node", 3)
    api = c.apis[2]
    st, j = wait_for(lambda: (lambda r: r if r[0] else None)(http(api + "/v1/status")), 20)
    damage = (j or {}).get("damage", "")
    where = "%s chain, block %d" % (chain, height)
    c.tap.ok(st == 503 and j.get("serving") is False and where in damage and "leben verify" in damage,
             c.name + ": the damaged node's /v1/status says it does not serve and names %s" % where,
             (st, j))
    st2, j2 = http(api + "/v1/txs", "POST", {"txs": [w_hex for w_hex in c.spare[:1]]})
    st3, j3 = http(api + "/v1/chains/settlement/blocks/0")
    c.tap.ok(st2 == 503 and j2["error"]["code"] == "LB_ECORRUPT" and
             st3 == 503 and j3["error"]["code"] == "LB_ECORRUPT",
             c.name + ": it refuses submissions and reads with LB_ECORRUPT", (st2, j2, st3))
    logged = open(log, errors="replace").read()
    c.tap.ok(where in logged and "restore" in logged,
             c.name + ": its log names the damaged block and what to do")
    # the others go on (the workload keeps submitting to all three meanwhile)
    def business_height(a):
        st_, s_ = http(a + "/v1/status")
        return s_["chains"]["business"]["height"] if st_ == 200 else -1
    before = business_height(c.apis[0])
    grew = wait_for(lambda: business_height(c.apis[0]) > before and
                    business_height(c.apis[1]) > before, 20)
    c.tap.ok(grew, c.name + ": nodes 1 and 2 go on committing while node 3 refuses")
    # restore from a healthy member and rejoin
    subprocess.run([SCRIPT, "stop-node", c.dir, "3"], env=env(), check=True,
                   capture_output=True, timeout=30)
    for ch in CHAINS:
        dst = os.path.join(home, "chains", ch + ".db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(dst + suffix):
                os.unlink(dst + suffix)
        src = sqlite3.connect(os.path.join(c.dir, "node-1", "chains", ch + ".db"))
        out = sqlite3.connect(dst)
        src.backup(out)
        out.close()
        src.close()
    c.restart("node", 3)


class Partition:
    """Cuts member 3 (etcd-3 and node-3) off from members 1 and 2 on loopback, with nftables.
    Loopback ports alone cannot tell who sent a packet, so the cluster runs in a cgroup v2
    directory of its own (CG_A) and member 3 is restarted into a second one (CG_B) before the
    workload starts; two output rules then drop CG_B's packets to members 1 and 2's etcd ports
    and CG_A's packets to member 3's etcd ports (the test's clients, outside both, still reach
    every node's API). nft resolves cgroup paths under /sys/fs/cgroup, where this machine
    mounts cgroup v1, so the rules are added from a private mount namespace with cgroup v2
    mounted there. Everything is removed by heal() and remove()."""

    ROOT = "/sys/fs/cgroup/unified"

    def __init__(self):
        tag = "leben-fault-%d" % os.getpid()
        self.table = tag.replace("-", "_")
        self.a, self.b = tag + "-a", tag + "-b"
        for g in (self.a, self.b):
            os.makedirs(os.path.join(self.ROOT, g), exist_ok=True)
        self.cut = False

    def cg(self, g):
        return os.path.join(self.ROOT, g)

    def isolate_member3(self, c):
        """Restart etcd-3 and node-3 inside CG_B (their sockets must be born there)."""
        for kind in ("node", "etcd"):
            subprocess.run([SCRIPT, "stop-" + kind, c.dir, "3"], env=env(), check=True,
                           capture_output=True, timeout=30)
        for kind in ("etcd", "node"):
            subprocess.run(in_cgroup(self.cg(self.b), [SCRIPT, "start-" + kind, c.dir, "3"]),
                           env=env(), check=True, timeout=30)
        ok = wait_for(lambda: http(c.apis[2] + "/v1/status")[0] == 200 and
                      http(c.apis[2] + "/v1/status")[1]["ordering"]["available"], 30)
        if not ok:
            raise RuntimeError("member 3 did not come back in its cgroup")

    def apply(self, c):
        e = c.env
        ports = lambda ids: "{ %s }" % ", ".join(
            str(e["ETCD_%s_%d" % (k, i)]) for i in ids for k in ("CLIENT", "PEER"))
        rules = ("add table inet {t}\n"
                 "add chain inet {t} out {{ type filter hook output priority 0; }}\n"
                 "add rule inet {t} out socket cgroupv2 level 1 \"{b}\" tcp dport {p12} drop\n"
                 "add rule inet {t} out socket cgroupv2 level 1 \"{a}\" tcp dport {p3} drop\n"
                 ).format(t=self.table, a=self.a, b=self.b, p12=ports((1, 2)), p3=ports((3,)))
        r = subprocess.run(["unshare", "-m", "sh", "-c",
                            "mount --make-rprivate / && mount -t cgroup2 none /sys/fs/cgroup "
                            "&& nft -f -"], input=rules, capture_output=True, text=True,
                           timeout=30)
        if r.returncode:
            raise RuntimeError("nft: " + r.stderr)
        self.cut = True

    def heal(self):
        if self.cut:
            subprocess.run(["nft", "delete", "table", "inet", self.table], capture_output=True)
            self.cut = False

    def remove(self):
        self.heal()
        for g in (self.a, self.b):
            try:
                os.rmdir(self.cg(g))
            except OSError:
                pass


def partition(c):
    """Member 3 cut off from members 1 and 2 for 8 s (election timeout 1 s): the majority goes
    on; node 3 reports ordering unavailable; after healing it catches up."""
    p = c.partition
    p.apply(c)
    t_cut = time.time()
    ok = wait_for(lambda: (lambda r: r[0] == 200 and not r[1]["ordering"]["available"])(
        http(c.apis[2] + "/v1/status")), 20)
    c.tap.ok(ok, "partition: node 3 reports ordering unavailable while cut off",
             http(c.apis[2] + "/v1/status")[1].get("ordering") if ok is False else None)

    def business_height(a):
        st_, s_ = http(a + "/v1/status")
        return s_["chains"]["business"]["height"] if st_ == 200 else -1
    before = business_height(c.apis[0])
    grew = wait_for(lambda: business_height(c.apis[0]) > before and
                    business_height(c.apis[1]) > before, 20)
    c.tap.ok(grew, "partition: nodes 1 and 2 go on committing")
    time.sleep(max(0.0, t_cut + 8 - time.time()))
    p.heal()


# ---- membership faults ------------------------------------------------------------------------

def cli(args, timeout=120):
    return subprocess.run([BIN] + args, capture_output=True, text=True, env=env(),
                          timeout=timeout)


def node_addr(c, i):
    return json.load(open(os.path.join(c.dir, "node-%d" % i, "keys", "node.key")))["address"]


def remove_partitioned(c):
    """Member 3 is cut off for 15 s (as in `partition`); meanwhile members 1 and 2 vote it out and take
    e3 out of etcd's membership. After healing, node 3 applies its own removal from the stream
    (through etcd 1 and 2), and every node refuses a tx its node key signed before."""
    p = c.partition
    home = lambda i: os.path.join(c.dir, "node-%d" % i)  # noqa: E731
    a3 = node_addr(c, 3)
    r = cli(["tx", "record", "--from", "node", "--kind", "k", "--subject", "s", "--data", "x",
             "--print", "--home", home(3), "--node", c.apis[2]])
    pre = r.stdout.split()[0] if r.returncode == 0 else ""
    # and, on the other two chains, a transfer and an asset registration
    r = cli(["tx", "transfer", "--from", "node", "--to", node_addr(c, 1), "--amount", "1",
             "--asset", "csc", "--print", "--home", home(3), "--node", c.apis[2]])
    pre_s = r.stdout.split()[0] if r.returncode == 0 else ""
    r = cli(["tx", "asset-register", "--from", "node", "--content-hash", "cd" * 32, "--print",
             "--home", home(3), "--node", c.apis[2]])
    pre_d = r.stdout.split()[0] if r.returncode == 0 else ""
    p.apply(c)
    t_cut = time.time()
    r = cli(["governance", "propose", "remove", "--member", a3, "--from", "node", "--wait",
             "--json", "--home", home(1), "--node", c.apis[0]])
    pid = json.loads(r.stdout)["id"] if r.returncode == 0 else ""
    c.tap.ok(bool(pid), "remove-partitioned: member 1 proposes to remove the cut-off member 3",
             r.stderr)
    r = cli(["governance", "vote", pid, "yes", "--from", "node", "--wait", "--home", home(2),
             "--node", c.apis[1]])
    c.tap.ok(r.returncode == 0 and "Committed" in r.stdout,
             "remove-partitioned: member 2's vote passes it while member 3 is cut off",
             r.stdout + r.stderr)
    r = cli(["governance", "etcd", "remove", "e3", "--home", home(1)])
    c.tap.ok(r.returncode == 0 and time.time() < t_cut + 15,
             "remove-partitioned: e3 removed from etcd while unreachable (%.0f s after the cut)"
             % (time.time() - t_cut), r.stdout + r.stderr)
    time.sleep(max(0.0, t_cut + 15 - time.time()))
    p.heal()

    def gone_on_3():
        st, m = http(c.apis[2] + "/v1/members")
        return st == 200 and a3 not in [x["address"] for x in m["members"]]

    c.tap.ok(wait_for(gone_on_3, 60),
             "remove-partitioned: healed, node 3 applies its own removal from the stream")
    # nodes 1 and 2 refuse the key itself; node 3, whose own etcd member is gone, can order
    # nothing any more and refuses every tx as "ordering unavailable" (LB_EUNAVAILABLE)
    for i, a in enumerate(c.apis):
        st, j = http(a + "/v1/txs", "POST", {"tx": pre})
        why = ("LB_EUNAUTH",) if i < 2 else ("LB_EUNAUTH", "LB_EUNAVAILABLE")
        c.tap.ok(st != 200 and any(w in json.dumps(j) for w in why),
                 "remove-partitioned: node %d refuses the removed member's key" % (i + 1), j)
    # the settlement and directory chains take the removal over by themselves (members 1 and
    # 2 send the follow-ups); node 3 catches up to the same heights from the stream
    def followed():
        fs = []
        for a in c.apis:
            st, j = http(a + "/v1/members/%s/removal" % a3)
            f = (j.get("followed") or {}) if st == 200 else {}
            if not f.get("settlement") or not f.get("directory"):
                return None
            fs.append((f["settlement"], f["directory"]))
        return fs

    fl = wait_for(followed, 120)
    c.tap.ok(fl and len(set(fl)) == 1,
             "remove-partitioned: with no operator command every node, node 3 included, "
             "refuses the removed keys on the settlement and directory chains from the same "
             "heights %s" % fl, fl)
    # (node 3 itself may answer "ordering unavailable" first: its own etcd member is gone)
    for i, a in enumerate(c.apis[:2]):
        for what, raw in (("settlement transfer", pre_s), ("directory registration", pre_d)):
            st, j = http(a + "/v1/txs", "POST", {"tx": raw})
            c.tap.ok(st != 200 and "removed by a governance vote" in json.dumps(j),
                     "remove-partitioned: node %d refuses the removed member's %s" %
                     (i + 1, what), j)
    r = cli(["governance", "etcd", "list", "--json", "--home", home(1)])
    names = sorted(m.get("name", "") for m in json.loads(r.stdout)["members"]) \
        if r.returncode == 0 else None
    c.tap.ok(names == ["e1", "e2"], "remove-partitioned: etcd's members are e1 and e2", names)


def admission_kill9(c):
    """A new institution is voted in under load; its `governance join` and its etcd member are
    killed with kill -9 right after etcd started as a learner; running join again resumes:
    etcd is promoted, the node catches up and agrees with the others."""
    d = c.dir
    home = lambda i: os.path.join(d, "node-%d" % i)  # noqa: E731
    h4 = home(4)
    cli(["init", "--network", "leben-consortium", "--home", h4])
    a4 = node_addr(c, 4)
    r = cli(["governance", "propose", "admit", "--member", a4, "--name", "institution-4",
             "--kinds", "data", "--from", "node", "--wait", "--json", "--home", home(1),
             "--node", c.apis[0]])
    pid = json.loads(r.stdout)["id"] if r.returncode == 0 else ""
    r = cli(["governance", "vote", pid, "yes", "--from", "node", "--wait", "--home", home(2),
             "--node", c.apis[1]])
    c.tap.ok(r.returncode == 0 and "Committed" in r.stdout,
             "admission-kill9: institution 4 voted in", r.stdout + r.stderr)
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    from lebentest import free_port
    cport, pport, aport = free_port(), free_port(), free_port()
    bundle = os.path.join(d, "join-4")
    r = cli(["governance", "admit-node", "--member", a4, "--name", "node-4", "--etcd-name",
             "e4", "--etcd-peer-url", "https://127.0.0.1:%d" % pport, "--etcd-client-url",
             "https://127.0.0.1:%d" % cport, "--ca", os.path.join(d, "ca"), "--out", bundle,
             "--home", home(1), "--node", c.apis[0]])
    c.tap.ok(r.returncode == 0, "admission-kill9: admit-node", r.stdout + r.stderr)
    args = [BIN, "governance", "join", "--bundle", bundle, "--home", h4, "--etcd-data",
            os.path.join(d, "etcd-4", "data"), "--api-port", str(aport), "--timeout", "120"]
    e = env()
    for k in ("LEBEN_TLS_CA", "LEBEN_TLS_CERT", "LEBEN_TLS_KEY"):
        e.pop(k, None)  # the new node presents its own certificate
    j = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=e)
    seen = ""
    while "[1/4]" not in seen:
        line = j.stdout.readline()
        if not line:
            break
        seen += line
    time.sleep(0.5)
    killed = []
    for f in ("etcd.pid", "node.pid"):
        try:
            os.kill(int(open(os.path.join(h4, f)).read()), signal.SIGKILL)
            killed.append(f)
        except (OSError, ValueError):
            pass
    j.kill()
    j.wait()
    c.tap.ok("etcd.pid" in killed, "admission-kill9: join and etcd-4 killed with kill -9 after "
             "'%s'" % seen.strip().splitlines()[-1] if seen.strip() else "(no output)", seen)
    r = subprocess.run(args, capture_output=True, text=True, env=e, timeout=180)
    for f, n in (("etcd.pid", "etcd-4"), ("node.pid", "node-4")):
        if os.path.exists(os.path.join(h4, f)):
            shutil.copy(os.path.join(h4, f), os.path.join(d, "pids", n + ".pid"))
    c.tap.ok(r.returncode == 0 and "voting member" in r.stdout and "caught up" in r.stdout,
             "admission-kill9: join run again resumes to a voting, caught-up member",
             r.stdout + r.stderr)
    api4 = "https://127.0.0.1:%d" % aport

    def agrees():
        st, s4 = http(api4 + "/v1/status")
        st1, s1 = http(c.apis[0] + "/v1/status")
        if st != 200 or st1 != 200:
            return False
        h = min(s4["chains"]["business"]["height"], s1["chains"]["business"]["height"])
        b4 = http("%s/v1/chains/business/blocks/%d" % (api4, h))[1]
        b1 = http("%s/v1/chains/business/blocks/%d" % (c.apis[0], h))[1]
        return h > 0 and b4 and b1 and b4["hash"] == b1["hash"] and \
            s4["consortium"]["member"]

    c.tap.ok(wait_for(agrees, 60), "admission-kill9: node 4 is a member and agrees with node 1")


SCENARIOS = [("kill-node", kill_node), ("kill-etcd-leader", kill_etcd_leader),
             ("pause-node", pause_node), ("pause-etcd-leader", pause_etcd_leader),
             ("no-quorum", no_quorum), ("corrupt-block", corrupt_block),
             ("corrupt-business-block", lambda c: corrupt_block(c, "business")),
             ("partition", partition), ("remove-partitioned", remove_partitioned),
             ("admission-kill9", admission_kill9)]


class Tap:
    def __init__(self):
        self.n = self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, name), flush=True)
        if not cond:
            self.failed += 1
            if diag is not None:
                print("#   %r" % (diag,), flush=True)


def main():
    want = sys.argv[1:] or [n for n, _ in SCENARIOS]
    t = Tap()
    for name, fn in SCENARIOS:
        if name not in want:
            continue
        t0 = time.time()
        part = Partition() if name in ("partition", "remove-partitioned") else None
        try:
            c = Cluster(part.cg(part.a) if part else None)
        except Exception as e:
            t.ok(False, "%s: cluster started" % name, repr(e))
            if part:
                part.remove()
            continue
        try:
            if part:
                c.partition = part
                part.isolate_member3(c)
            w = Workload(c, 3000)
            w.baseline = committed_ids(c)
            c.tap, c.name = t, name
            c.spare = [w.parts[2][-1]]
            w.run()
            time.sleep(1.5)
            fn(c)
            time.sleep(3)   # the workload goes on a little after the fault, then stops
            w.stop = True
            w.join()
            check(t, name, c, w)
            t.ok(time.time() - t0 < 90, "%s: scenario finished in %.0f s" % (name, time.time() - t0))
        except Exception as e:  # a scenario that breaks is a failure, the next still runs
            t.ok(False, "%s: ran without error" % name, repr(e))
        finally:
            if part:
                part.heal()
            c.down()
            if part:
                part.remove()
            if not t.failed:
                shutil.rmtree(c.dir, ignore_errors=True)
            else:
                print("# kept %s" % c.dir)
    print("1..%d" % t.n)
    sys.exit(1 if t.failed else 0)


if __name__ == "__main__":
    main()
