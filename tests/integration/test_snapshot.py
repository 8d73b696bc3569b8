#!/usr/bin/env python3
"""Catch-up from a peer snapshot (docs/consortium.md): a 3-member cluster (checkpoints every
4 blocks) commits txs; a new node with snapshot_from = node 1's peer port imports node 1's
chains over mutual TLS, replays every block, checks the members' checkpoints, then follows the
etcd stream: it has the same block hash at every height as the others, also for blocks made
after it joined. A node with a certificate from another CA is refused by the peer and does
not start. A peer that sends a snapshot with one byte of one tx changed (a relay between the
new node and node 1, itself holding a consortium certificate) is caught: the new node names
the block and does not start. Once every member has checkpointed, a member compacts etcd's
history (etcd refuses reads of revision 1); a new node without a snapshot then says it must
catch up from one; a member killed with -9 resumes from its own position."""

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import BIN, ROOT, Tap, free_port, install_tls  # noqa: E402

SCRIPT = os.path.join(ROOT, "scripts", "cluster.sh")
SIGNER = os.path.join(ROOT, "build", "bench", "bench_cluster")
CHAINS = ("settlement", "directory", "business")
MAGIC = b"LEBEN-SNAPSHOT-1\n"


def env():
    e = dict(os.environ)
    e["LEBEN_PASSPHRASE"] = "snap"
    e["LEBEN_BIN"] = BIN
    e["LEBEN_CLUSTER_CHECKPOINT"] = "4"
    e["LEBEN_CLUSTER_BLOCK_MAX"] = "50"
    return e


def http(url, method="GET", body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
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


def submit(apis, n):
    """n unique txs spread over the nodes; returns their ids once all are committed."""
    r = subprocess.run([SIGNER, "sign", apis[0], str(n)], capture_output=True, text=True,
                       timeout=120, check=True)
    hexes = r.stdout.split()
    ids = []
    for k in range(0, len(hexes), 20):
        st, j = http(apis[(k // 20) % len(apis)] + "/v1/txs", "POST", {"txs": hexes[k:k + 20]})
        assert st == 200, (st, j)
        ids += [x["id"] for x in j["results"]]
    return ids


def chains_of(api):
    st, s = http(api + "/v1/status")
    return {c: (s["chains"][c]["height"], s["chains"][c]["hash"]) for c in CHAINS} if st == 200 else None


def same_blocks(apis, top):
    """Every node has the same hash at every height up to top (a settled point; checkpoint txs
    may add blocks meanwhile)."""
    if not top:
        return False
    for c in CHAINS:
        for h in range(1, top[c][0] + 1):
            hs = {(http("%s/v1/chains/%s/blocks/%d" % (a, c, h))[1] or {}).get("hash") for a in apis}
            if len(hs) != 1 or None in hs:
                return False
    return True


def settled(apis):
    def f():
        tops = [chains_of(a) for a in apis]
        return tops[0] if all(t and t == tops[0] for t in tops) else None
    return wait_for(f, 60)


def new_home(d, name, ca_dir, peer, eps):
    h = os.path.join(d, name)
    subprocess.run([BIN, "init", "--home", h], env=env(), capture_output=True, check=True)
    shutil.copy(os.path.join(d, "node-1", "genesis.json"), os.path.join(h, "genesis.json"))
    subprocess.run([BIN, "ca", "issue", "--dir", ca_dir, "--name", name, "--home", h],
                   env=env(), capture_output=True, check=True)
    port = free_port()
    cfg = json.load(open(os.path.join(h, "config.json")))
    # the cut rule's settings must be the members' (block_max_txs decides the cuts)
    c1 = json.load(open(os.path.join(d, "node-1", "config.json")))
    for k in ("block_max_txs", "block_interval_ms", "checkpoint_interval"):
        cfg[k] = c1[k]
    cfg.update({"api_port": port, "orderer": "etcd", "etcd_endpoints": eps,
                "snapshot_from": peer})
    json.dump(cfg, open(os.path.join(h, "config.json"), "w"))
    return h, "http://127.0.0.1:%d" % port


def start(h):
    log = open(os.path.join(h, "node.log"), "w")
    return subprocess.Popen([BIN, "node", "--home", h], env=env(), stdout=log,
                            stderr=subprocess.STDOUT)


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class TamperingRelay:
    """Accepts the new node's TLS connection (consortium certificate), fetches node 1's
    snapshot, changes one byte inside the first tx of the first business block, serves it."""

    def __init__(self, tls_dir, upstream):
        self.up = upstream
        self.tls = tls_dir
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.changed = None
        threading.Thread(target=self.run, daemon=True).start()

    def ctx(self, server):
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
        c.minimum_version = ssl.TLSVersion.TLSv1_3
        c.load_cert_chain(os.path.join(self.tls, "node.pem"), os.path.join(self.tls, "node.key"))
        c.load_verify_locations(os.path.join(self.tls, "ca.pem"))
        c.verify_mode = ssl.CERT_REQUIRED
        c.check_hostname = False
        return c

    def fetch(self):
        host, port = self.up.rsplit(":", 1)
        s = self.ctx(False).wrap_socket(socket.create_connection((host, int(port))))
        s.sendall(MAGIC)
        data = b""
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            data += b
        s.close()
        return bytearray(data)

    def run(self):
        conn, _ = self.sock.accept()
        t = self.ctx(True).wrap_socket(conn, server_side=True)
        req = b""
        while len(req) < len(MAGIC):
            req += t.recv(len(MAGIC) - len(req))
        data = self.fetch()
        # walk to the first business block: heights and cursors, then blocks chain by chain
        p = len(MAGIC)
        heights = []
        for _ in CHAINS:
            heights.append(int.from_bytes(data[p:p + 8], "big"))
            n = int.from_bytes(data[p + 8:p + 12], "big")
            p += 12 + n
        for c in range(3):
            for i in range(heights[c]):
                hl = int.from_bytes(data[p:p + 4], "big")
                bl = int.from_bytes(data[p + 4 + hl:p + 8 + hl], "big")
                if c == 2 and bl > 0 and self.changed is None:
                    at = p + 8 + hl + 40      # inside the first tx of the body
                    data[at] ^= 0x01
                    self.changed = i + 1
                p += 8 + hl + bl
        t.sendall(bytes(data))
        t.close()


def main():
    t = Tap()
    d = tempfile.mkdtemp(prefix="leben-snap-")
    procs = []
    try:
        r = subprocess.run([SCRIPT, "up", "3", d], capture_output=True, text=True, env=env(),
                           timeout=180)
        if r.returncode:
            raise RuntimeError(r.stdout + r.stderr)
        ce = dict(line.strip().split("=", 1) for line in open(os.path.join(d, "cluster.env"))
                  if "=" in line)
        apis = [ce["NODE_API_%d" % i] for i in (1, 2, 3)]
        tls = os.path.join(d, "node-1", "tls")
        install_tls(tls)  # the members' APIs answer members only (mutual TLS)
        os.environ.update({"LEBEN_TLS_CA": tls + "/ca.pem", "LEBEN_TLS_CERT": tls + "/node.pem",
                           "LEBEN_TLS_KEY": tls + "/node.key"})  # for the signer
        submit(apis, 600)
        top = settled(apis)
        # enough blocks for checkpoints (every 4) to be recorded
        t.ok(top and top["business"][0] >= 8, "the cluster committed business blocks", top)

        h4, api4 = new_home(d, "node-4", os.path.join(d, "ca"), ce["NODE_PEER_1"],
                            ce["ETCD_ENDPOINTS"])
        p4 = start(h4)
        procs.append(p4)
        ok = wait_for(lambda: http(api4 + "/v1/status")[0] == 200, 60)
        log4 = open(os.path.join(h4, "node.log")).read()
        caught = [line for line in log4.splitlines() if "caught up from" in line]
        t.ok(ok and caught, "a new node with snapshot_from catches up from node 1's snapshot",
             log4[-800:])
        checked = int(caught[0].split("business")[1].split(";")[1].split()[0]) if caught else 0
        t.ok(checked > 0, "it compared the members' checkpoints with the imported blocks (%d)" % checked)
        t.ok(same_blocks(apis + [api4], settled(apis + [api4])),
             "it has the same block hash at every height as the members")
        before = chains_of(api4)["business"][0]
        submit(apis + [api4], 200)
        top = settled(apis + [api4])
        t.ok(top and top["business"][0] > before and same_blocks(apis + [api4], top),
             "after joining it follows the stream: blocks made later are the same on all four",
             ([chains_of(a)["business"] for a in apis + [api4]],
              http(api4 + "/v1/status")[1].get("ordering"),
              open(os.path.join(h4, "node.log")).read()[-1500:]))
        log1 = open(os.path.join(d, "node-1", "node.log")).read()
        t.ok("sent a snapshot to peer node-4" in log1, "node 1 logs whom it sent a snapshot to")

        # etcd history compaction once every member has checkpointed past a revision
        def compacted():
            for line in open(os.path.join(d, "node-1", "node.log")):
                if "compacted etcd's history below revision" in line:
                    return int(line.split("revision")[1].split()[0])
            return None
        rev = wait_for(compacted, 40)
        t.ok(rev and rev > 1, "a member compacts etcd's history below a revision all have "
             "checkpointed past (%s)" % rev)
        tls1 = os.path.join(d, "node-1", "tls")
        import base64
        key = base64.b64encode(b"/").decode()
        r = subprocess.run(["curl", "-s", "--max-time", "5", "--cacert", tls1 + "/ca.pem",
                            "--cert", tls1 + "/node.pem", "--key", tls1 + "/node.key",
                            ce["ETCD_ENDPOINTS"].split(",")[0] + "/v3/kv/range", "-d",
                            json.dumps({"key": key, "revision": "1"})], capture_output=True,
                           text=True)
        t.ok("compacted" in r.stdout, "etcd itself refuses reads of revision 1 as compacted",
             r.stdout[:200])
        st, s4 = http(api4 + "/v1/status")
        t.ok(st == 200 and s4["ordering"]["available"] and s4["ordering"].get("compacted", 0) >= 0,
             "the node that joined from a snapshot still orders after compaction",
             s4.get("ordering") if isinstance(s4, dict) else s4)
        h7, api7 = new_home(d, "node-7", os.path.join(d, "ca"), "", ce["ETCD_ENDPOINTS"])
        p7 = start(h7)
        procs.append(p7)

        def needs_snapshot():
            st7, s7 = http(api7 + "/v1/status")
            return st7 == 200 and not s7["ordering"]["available"] and \
                "must catch up from a peer snapshot" in (s7["ordering"]["reason"] or "")
        t.ok(wait_for(needs_snapshot, 30),
             "a new node without a snapshot finds the history compacted and says to catch up "
             "from a peer snapshot", http(api7 + "/v1/status")[1])
        stop(p7)
        # a member killed with -9 and restarted resumes from its own position after compaction
        os.kill(int(open(os.path.join(d, "pids", "node-2.pid")).read()), 9)
        time.sleep(1)
        subprocess.run([SCRIPT, "start-node", d, "2"], env=env(), check=True)
        wait_for(lambda: http(apis[1] + "/v1/status")[0] == 200, 30)
        before = chains_of(api4)["business"][0]
        submit(apis + [api4], 100)
        top = settled(apis + [api4])
        t.ok(top and top["business"][0] > before and same_blocks(apis + [api4], top),
             "a member killed -9 and restarted after compaction resumes; all four agree")

        # a certificate from another CA: refused during the handshake
        fca = os.path.join(d, "foreign-ca")
        subprocess.run([BIN, "ca", "init", "--dir", fca, "--name", "foreign"], env=env(),
                       capture_output=True, check=True)
        h5, api5 = new_home(d, "node-5", fca, ce["NODE_PEER_1"], ce["ETCD_ENDPOINTS"])
        shutil.copy(os.path.join(d, "ca", "ca.pem"), os.path.join(h5, "tls", "ca.pem"))
        p5 = start(h5)
        procs.append(p5)
        rc5 = p5.wait(60)
        log5 = open(os.path.join(h5, "node.log")).read()
        t.ok(rc5 != 0 and "catch-up from" in log5 and http(api5 + "/v1/status")[0] == 0,
             "a node with a foreign-CA certificate is refused and does not start", log5[-500:])

        # a tampering peer
        relay = TamperingRelay(os.path.join(d, "node-2", "tls"), ce["NODE_PEER_1"])
        h6, api6 = new_home(d, "node-6", os.path.join(d, "ca"), "127.0.0.1:%d" % relay.port,
                            ce["ETCD_ENDPOINTS"])
        p6 = start(h6)
        procs.append(p6)
        rc6 = p6.wait(60)
        log6 = open(os.path.join(h6, "node.log")).read()
        t.ok(relay.changed is not None and rc6 != 0 and "does not replay" in log6 and
             ("business block %s " % relay.changed) in log6 and "remove" in log6,
             "a snapshot with one tx byte changed is caught: the block is named, nothing served",
             log6[-600:])
    except Exception as e:
        t.ok(False, "ran without error", repr(e))
    finally:
        for p in procs:
            stop(p)
        subprocess.run([SCRIPT, "down", d], env=env(), capture_output=True, timeout=120)
        shutil.rmtree(d, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
