#!/usr/bin/python3
"""Super-node roles on a real consortium (scripts/cluster.sh up 3: etcd ordering, mutual TLS),
where each institution holds different kinds: institution-1 data, institution-2 computing and
algorithm, institution-3 audit; re-audits every 25 business blocks (genesis "audit").

Checks, through the CLI and the API:
- each role refusal names the role and the vote that gives it: an audit-only member offering an
  asset (data), the clinic naming an audit-only node as its own node (data), a data-only node
  publishing an algorithm (algorithm), an escrow for an off-site run at the audit-only node
  (computing, nothing locked), an audit asked of a computing node (audit);
- attack txs sent raw (`leben tx raw`, bypassing the CLI's own checks) are refused by the node's
  tx validation: the audit-only node executing an off-site run, the owner reporting its own
  score, a non-audit node signing a score, an audit node signing a score nobody asked for;
- an audit performed by the audit node: the owner asks, the audit node has the owner's node run
  the table audit in its sandbox, receives the report only (sealed to it; no cell of the table
  in it; its score equals `leben data audit` run here over the file), signs the score; every
  node's directory shows who audited, when, the score and the report's hash, and the
  directory search hit carries it; an audit node that was not asked gets nothing from the
  owner's node;
- the re-audit schedule: the audit is valid, then after 25 more business blocks it is shown
  expired and listed as due;
- votes: the re-audit interval changed by a governance vote (the expired audit is valid again
  under the longer interval, on every node); institution-3 given the computing kind by a vote,
  after which the off-site run refused to it before is escrowed and executed there;
- the automatic scenario choice, recorded truthfully: a run left to the automatic choice at the
  clinic's own node is recorded local (reason: the executor); an algorithm needing a provider's
  stack must run integrated (refused at the own node, planned integrated at the computing
  node) and runs there, the computing node being paid its fee through the escrow.
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import (BIN, ROOT, Tap, blake2b256, cluster_env, http_json, install_tls,  # noqa: E402
                       read_cluster_env, scratch_dir, wait_for)

M = 1000000
PASS = "cluster"
INTERVAL = 25


def env():
    return cluster_env(PASS, LEBEN_CLUSTER_KINDS="data;computing,algorithm;audit",
                       LEBEN_CLUSTER_GENESIS=json.dumps({"audit": {"interval_blocks": INTERVAL}}))


def http(url, method="GET", body=None):
    return http_json(url, method, body, timeout=120)


read_env = read_cluster_env


def uvar(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def addr_bytes(a):
    """lb1... (bech32m) -> 20 bytes."""
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    data = [charset.index(c) for c in a[a.rindex("1") + 1:]][:-6]
    acc, bits, out = 0, 0, []
    for d in data:
        acc = (acc << 5) | d
        bits += 5
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    return bytes(out)


def main():
    t = Tap()
    work = scratch_dir("leben-roles-")
    cluster = os.path.join(work, "cluster")
    e = env()
    try:
        r = subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "up", "3", cluster],
                           env=e, capture_output=True, text=True, timeout=600)
        if t.ok(r.returncode == 0, "cluster.sh up 3 (kinds: data; computing,algorithm; audit)",
                r.stdout[-2000:] + r.stderr[-2000:]):
            run(t, e, cluster, work)
    finally:
        subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "down", cluster],
                       env=e, capture_output=True, timeout=120)
    t.done()


def run(t, e, cluster, work):
    ce = read_env(cluster)
    install_tls(os.path.join(cluster, "node-1", "tls"))  # the nodes' APIs take members only
    urls = {i: ce["NODE_API_%d" % i] for i in (1, 2, 3)}

    def cli(i, args, url=None):
        return subprocess.run([BIN] + args + ["--home", os.path.join(cluster, "node-%d" % i),
                                              "--node", url or urls[i]], env=e,
                              capture_output=True, text=True, timeout=300)

    def clij(i, args, url=None):
        r = cli(i, args + ["--json"], url)
        try:
            return r, json.loads(r.stdout)
        except ValueError:
            return r, None

    def keyaddr(i, name):
        r = subprocess.run([BIN, "keys", "show", name, "--home",
                            os.path.join(cluster, "node-%d" % i), "--json"], env=e,
                           capture_output=True, text=True)
        return json.loads(r.stdout)["address"]

    def raw(i, type_id, payload, url=None):
        return cli(i, ["tx", "raw", "--from", "node", "--chain", "business", "--type-id",
                       str(type_id), "--payload", payload.hex(), "--wait"], url)

    n1, n2, n3 = keyaddr(1, "node"), keyaddr(2, "node"), keyaddr(3, "node")

    def vote2(propose, what):
        """Member 1 proposes, member 2 votes yes: 2 of 3, the proposal passes."""
        r, pj = clij(1, propose + ["--from", "node", "--wait"])
        t.ok(r.returncode == 0 and pj and pj.get("id"), "member 1 proposes %s" % what,
             r.stdout + r.stderr)
        r = cli(2, ["governance", "vote", (pj or {}).get("id", "0" * 64), "yes", "--from", "node",
                    "--wait"])
        t.ok(r.returncode == 0 and "Committed" in r.stdout, "member 2 votes yes: %s passes" % what,
             r.stdout + r.stderr)
    clinic = keyaddr(1, "clinic")
    st, mem = http(urls[2] + "/v1/members")
    kinds = {m["address"]: m["kinds"] for m in mem.get("members", [])}
    t.eq((kinds.get(n1), kinds.get(n2), kinds.get(n3)), ("data", "computing,algorithm", "audit"),
         "the members hold different kinds")

    # every node key pays its own fees
    for a in (n1, n2, n3):
        cli(1, ["tx", "transfer", "--from", "clinic", "--to", a, "--amount", "10", "--asset",
                "csc", "--wait"])

    # ---- the clinic's data, hosted at institution-1 (a data node) -------------------------------
    data = os.path.join(work, "cohort.csv")
    with open(data, "w") as f:
        f.write("patient_id,age,systolic,hba1c\n")
        for n in range(1, 31):
            f.write("P%d,%d,%d,%d\n" % (n, 40 + n, 118 + 2 * n, 50 + n % 5))
    r, add = clij(1, ["data", "add", data, "--key", "clinic", "--price", "5", "--name",
                      "hypertension cohort"])
    if not t.ok(r.returncode == 0 and add, "the clinic publishes its table", r.stderr):
        return
    cli(1, ["tx", "identity", "--from", "clinic", "--role", "provider", "--name", "St. Anna",
            "--wait"])
    r, off = clij(1, ["exchange", "offer", "--from", "clinic", "--asset-tx", add["tx"], "--price",
                      "5", "--min-cohort", "5", "--data", data, "--opt-out", "--legal-basis",
                      "test basis"])
    if not t.ok(r.returncode == 0 and off, "the clinic (an account of institution-1) offers it",
                r.stderr):
        return
    asset = off["asset"]

    # data role: an audit-only member may not offer, nor host as an owner's own node
    f3 = os.path.join(work, "other.csv")
    with open(f3, "w") as f:
        f.write("patient_id,x\n" + "".join("Q%d,%d\n" % (n, n) for n in range(1, 12)))
    r, add3 = clij(3, ["data", "add", f3, "--key", "node", "--price", "0", "--name", "other"])
    cli(3, ["tx", "identity", "--from", "node", "--role", "provider", "--name", "inst-3", "--wait"])
    r = cli(3, ["exchange", "offer", "--from", "node", "--asset-tx", add3["tx"] if add3 else "0" * 64,
                "--price", "0", "--min-cohort", "5", "--data", f3])
    t.ok(r.returncode == 1 and "not a data node" in r.stderr and "kinds audit" in r.stderr
         and "leben governance propose" in r.stderr and "--kinds data" in r.stderr,
         "role refusal (data): an audit-only member may not offer an asset; the error names "
         "the role and the vote", r.stderr)
    r = cli(1, ["exchange", "grant", "--from", "clinic", "--asset", asset, "--executor", n3,
                "--kind", "own"])
    t.ok(r.returncode == 1 and "not a data node" in r.stderr and "host an offered asset" in r.stderr,
         "role refusal (data): an audit-only node cannot be named the asset's own node", r.stderr)
    r = cli(1, ["exchange", "grant", "--from", "clinic", "--asset", asset, "--executor", n1,
                "--kind", "own"])
    t.ok(r.returncode == 0, "the clinic names institution-1's node (a data node) its own node",
         r.stderr)

    # algorithm role
    script = os.path.join(work, "heavy.lua")
    with open(script, "w") as f:
        f.write("return {n = agg.count()}\n")
    r = cli(1, ["exchange", "algo", "--from", "node", "--algorithm-file", script, "--fee", "1",
                "--heavy-deps", "--name", "needs a provider"])
    t.ok(r.returncode == 1 and "not an algorithm node" in r.stderr and "--kinds algorithm" in r.stderr,
         "role refusal (algorithm): a data-only node may not publish an algorithm", r.stderr)
    r = cli(2, ["exchange", "algo", "--from", "node", "--algorithm-file", script, "--fee", "1",
                "--heavy-deps", "--name", "needs a provider"])
    t.ok(r.returncode == 0, "an algorithm node publishes it", r.stderr)

    # ---- computing role -----------------------------------------------------------------------
    cli(1, ["exchange", "grant", "--from", "clinic", "--asset", asset, "--executor", n3,
            "--kind", "node"])
    r, rq = clij(1, ["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm",
                     "builtin:stats", "--params", '{"columns":["age"]}', "--scenario", "off-site",
                     "--purpose", "off-site at an audit node"])
    cli(1, ["exchange", "approve", "--from", "clinic", "--request", rq["tx"]])
    r = cli(1, ["exchange", "escrow", "--from", "alice", "--request", rq["tx"], "--executor", n3,
                "--compute-fee", "2"])
    t.ok(r.returncode == 1 and "not a computing node" in r.stderr
         and "execute off-site and integrated runs" in r.stderr and "nothing was locked" in r.stderr,
         "role refusal (computing): an escrow for an off-site run at a non-computing node locks "
         "nothing", r.stderr)
    # attack: the audit-only node records the off-site execution itself (tx sent raw)
    terms = (addr_bytes(keyaddr(1, "alice")) + bytes.fromhex(rq["tx"]) + addr_bytes(clinic) +
             uvar(5 * M) + bytes(20) + uvar(0) + addr_bytes(n3) + uvar(2 * M))
    exe = (bytes.fromhex(rq["tx"]) + bytes(32) + terms + bytes([2, 1]) + uvar(0) + bytes(32))
    r = raw(3, 0x0346, exe, urls[1])
    t.ok(r.returncode != 0 and "not a computing node" in (r.stdout + r.stderr),
         "attack: a non-computing node recording an off-site execution is refused by tx "
         "validation (sent to institution-1's node)", r.stdout + r.stderr)
    st, rv = http(urls[2] + "/v1/exchange/requests/" + rq["tx"])
    t.ok(st == 200 and rv["status"] == "approved", "... and the request did not run", rv)
    rq_off = rq["tx"]  # run once institution-3 holds the computing kind (end of the test)

    # ---- audits by the audit node ----------------------------------------------------------------
    r = cli(1, ["exchange", "audit-request", "--from", "clinic", "--asset", asset, "--auditor", n2])
    t.ok(r.returncode == 1 and "not an audit node" in r.stderr and "--kinds audit" in r.stderr,
         "role refusal (audit): an audit cannot be asked of a computing node", r.stderr)
    r = cli(1, ["exchange", "audit-request", "--from", "clinic", "--asset", asset, "--auditor", "clinic"])
    t.ok(r.returncode == 1 and "cannot audit its own data" in r.stderr,
         "the owner cannot name itself the auditor", r.stderr)
    st, a0 = http(urls[3] + "/v1/exchange/audits/" + asset)
    t.ok(st == 200 and a0["status"] == "none" and a0["due"] is True,
         "before any audit: the asset has no counted audit and is due", a0)
    r = cli(1, ["exchange", "audit-request", "--from", "clinic", "--asset", asset, "--auditor", n3])
    t.ok(r.returncode == 0, "the clinic asks institution-3 (an audit node) for an audit", r.stderr)
    # attacks on the score
    content = bytes.fromhex(off.get("content_hash") or http(urls[1] + "/v1/exchange/offers/" +
                                                             asset)[1]["content_hash"])
    score_payload = bytes.fromhex(asset) + content + uvar(9999) + bytes(32)
    r = cli(1, ["tx", "raw", "--from", "clinic", "--chain", "business", "--type-id", str(0x034c),
                "--payload", score_payload.hex(), "--wait"])
    t.ok(r.returncode != 0 and "does not count" in (r.stdout + r.stderr),
         "attack: the owner reporting its own score is refused", r.stdout + r.stderr)
    r = raw(2, 0x034c, score_payload)
    t.ok(r.returncode != 0 and "not an audit node" in (r.stdout + r.stderr),
         "attack: a non-audit node signing a score is refused", r.stdout + r.stderr)
    # the table at the owner's node (where the sandbox reads it)
    d = os.path.join(cluster, "node-1", "exchange", "assets")
    os.makedirs(d, exist_ok=True)
    with open(data, "rb") as f:
        table = f.read()
    with open(os.path.join(d, asset + ".csv"), "wb") as f:
        f.write(table)
    r = cli(2, ["exchange", "audit", "--from", "node", "--asset", asset, "--owner-node", urls[1]])
    t.ok(r.returncode == 1 and "has not asked" in r.stderr,
         "an audit node that was not asked gets nothing from the owner's node", r.stderr)
    # the owner's node checks who asks: a signature that does not verify, a stale one, a key
    # the owner never asked
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    sk = Ed25519PrivateKey.generate()
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def run_body(ms, sig=None):
        d = blake2b256(bytes.fromhex(asset) + ms.to_bytes(8, "big"), "LEBEN-audit-run-v1")
        return {"pk": pk.hex(), "time_ms": ms, "sig": (sig or sk.sign(d)).hex()}
    now = int(time.time() * 1000)
    run_url = urls[1] + "/v1/exchange/audits/" + asset + "/run"
    st, ans = http(run_url, "POST", run_body(now, bytes(64)))
    t.ok(st == 403 and ans["error"]["code"] == "LB_EUNAUTH", "audit run: a bad signature is refused",
         ans)
    st, ans = http(run_url, "POST", run_body(now - 3600 * 1000))
    t.ok(st == 422 and ans["error"]["code"] == "LB_EEXPIRED", "audit run: a stale request is refused",
         ans)
    st, ans = http(run_url, "POST", run_body(now))
    t.ok(st == 403 and "has not asked" in ans["error"]["message"] and "sealed" not in ans,
         "audit run: a key the owner did not ask gets nothing", ans)
    st, ans = http(run_url, "POST", {"pk": "zz"})
    t.ok(st == 400 and ans["error"]["code"] == "LB_EMALFORMED", "audit run: a malformed body is "
         "refused", ans)
    rep_path = os.path.join(work, "report.json")
    r, au = clij(3, ["exchange", "audit", "--from", "node", "--asset", asset, "--owner-node",
                     urls[1], "--out", rep_path])
    if not t.ok(r.returncode == 0 and au, "the audit node audits the asset at the owner's node",
                r.stderr):
        return
    rep = open(rep_path, "rb").read()
    leaks = [w for w in (b"P1,", b"P17", b"158", b"\"P") if w in rep]
    t.ok(not leaks and b"completeness" in rep, "the report holds aggregates, no cell of the table",
         (leaks, rep[:400]))
    r = subprocess.run([BIN, "data", "audit", data, "--json"], env=e, capture_output=True,
                       text=True)
    local = json.loads(r.stdout)
    t.eq(au["score"], local["score"], "the signed score is the table audit's score "
         "(leben data audit over the same file)")
    t.eq(au["report_hash"], blake2b256(rep).hex(), "the recorded report hash is the report's")
    r = raw(3, 0x034c, score_payload)
    t.ok(r.returncode != 0 and "was asked" in (r.stdout + r.stderr),
         "attack: a second score nobody asked for is refused (the request was used)",
         r.stdout + r.stderr)
    for i in (1, 2, 3):
        st, a = http(urls[i] + "/v1/exchange/audits/" + asset)
        t.ok(st == 200 and a.get("status") == "valid" and a.get("auditor") == n3
             and a.get("auditor_name") == "institution-3" and a.get("score") == au["score"]
             and a.get("report_hash") == au["report_hash"] and a.get("time_ms", 0) > 0
             and a.get("expires_height") == a.get("height", 0) + INTERVAL,
             "institution-%d's directory shows who audited, when, the score and the report" % i, a)
    st, lg = http(urls[2] + "/v1/exchange/log/" + asset)
    ev = [(x["type"], x["what"]) for x in lg.get("events", []) if x["type"].startswith("audit.")]
    t.eq(ev, [("audit.request", "audit asked of an audit node"),
              ("audit.record", "audit score signed by the audit node")],
         "the asset's history records the audit request and the signed score")
    st, hits = http(urls[2] + "/v1/directory/search?q=hypertension")
    h = [x for x in hits.get("results", []) if x["id"] == asset]
    t.ok(h and h[0]["audit"]["status"] == "valid" and h[0]["audit"]["auditor"] == n3
         and h[0]["audit"]["score"] == au["score"],
         "the directory search hit carries the audit node's score", hits)
    st, lst = http(urls[1] + "/v1/exchange/audits")
    t.ok(st == 200 and lst["interval_blocks"] == INTERVAL and
         asset not in [x["asset"] for x in lst["due"]], "a freshly audited asset is not due", lst)
    # the re-audit schedule: INTERVAL more business blocks and the audit is expired
    start = a["height"]
    deadline = time.time() + 600
    while time.time() < deadline:
        st, s = http(urls[1] + "/v1/status")
        hb = s["chains"]["business"]["height"] if st == 200 else 0
        if hb > start + INTERVAL:
            break
        cli(1, ["tx", "record", "--from", "bob", "--kind", "tick", "--subject", "roles", "--wait"])
    st, a = http(urls[2] + "/v1/exchange/audits/" + asset)
    t.ok(st == 200 and a["status"] == "expired" and a["due"] is True,
         "after the interval the audit is shown expired", a)
    st, lst = http(urls[2] + "/v1/exchange/audits")
    t.ok(asset in [x["asset"] for x in lst.get("due", [])], "... and listed among the due audits",
         lst)
    r = cli(2, ["exchange", "audits", "--asset", asset])
    t.ok(r.returncode == 0 and "EXPIRED" in r.stdout and "re-audit due" in r.stdout,
         "leben exchange audits says it is expired", r.stdout + r.stderr)
    # the interval is a rule the members change by vote: 1000 blocks make the audit valid again
    vote2(["governance", "propose", "audit-interval", "--interval-blocks", "1000"],
          "the re-audit interval: 1000 business blocks")
    ok = wait_for(lambda: all(
        http(urls[i] + "/v1/exchange/audits")[1].get("interval_blocks") == 1000 and
        http(urls[i] + "/v1/members")[1]["rules"].get("audit_interval_blocks") == 1000
        for i in (1, 2, 3)), 30)
    t.ok(ok, "every node applies the voted interval (audits, members' rules)")
    st, a = http(urls[3] + "/v1/exchange/audits/" + asset)
    t.ok(st == 200 and a["status"] == "valid" and a["due"] is False,
         "under the new interval the same audit is valid again, not due", a)

    # ---- the automatic scenario choice, recorded truthfully -----------------------------------------
    r, rq = clij(1, ["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm",
                     "builtin:stats", "--params", '{"columns":["age"]}', "--purpose", "automatic"])
    cli(1, ["exchange", "approve", "--from", "clinic", "--request", rq["tx"]])
    r, es = clij(1, ["exchange", "escrow", "--from", "alice", "--request", rq["tx"], "--executor",
                     n1, "--compute-fee", "1"])
    r, ran = clij(1, ["exchange", "run", "--from", "node", "--request", rq["tx"], "--escrow",
                      es["escrow"] if es else "0" * 64, "--data", data])
    t.ok(r.returncode == 0 and ran and ran["scenario"] == "local" and ran["chosen_by"] == "automatic"
         and ran["scenario_reason"] == "executor",
         "left to the automatic choice, a run at the clinic's own node is recorded local",
         r.stdout + r.stderr)
    st, rv = http(urls[3] + "/v1/exchange/requests/" + rq["tx"])
    t.ok(rv.get("scenario") == "local" and rv.get("chosen_by") == "automatic"
         and rv.get("scenario_reason") == "executor", "every node records the scenario that ran "
         "and why", rv)
    # an algorithm needing a provider's stack: integrated, at the computing node
    r, rq = clij(1, ["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm-file",
                     script, "--purpose", "needs a provider"])
    cli(1, ["exchange", "approve", "--from", "clinic", "--request", rq["tx"]])
    st, plan = http(urls[1] + "/v1/exchange/check", "POST", {"request": rq["tx"], "executor": n1})
    t.ok(st == 403 and "must run integrated" in plan["error"]["message"]
         and "provider's stack" in plan["error"]["message"],
         "automatic choice: a heavy algorithm may not run at the owner's node", plan)
    cli(1, ["exchange", "grant", "--from", "clinic", "--asset", asset, "--executor", n2,
            "--kind", "provider"])
    st, plan = http(urls[1] + "/v1/exchange/check", "POST", {"request": rq["tx"], "executor": n2})
    t.ok(st == 200 and plan["scenario"] == "integrated" and plan["chosen_by"] == "automatic"
         and plan["scenario_reason"] == "dependencies",
         "automatic choice: integrated at the computing node, because of its dependencies", plan)
    r, es = clij(1, ["exchange", "escrow", "--from", "alice", "--request", rq["tx"], "--executor",
                     n2, "--compute-fee", "3"])
    esc = es["escrow"] if es else "0" * 64
    r = cli(1, ["exchange", "send", "--from", "clinic", "--request", rq["tx"], "--escrow", esc,
                "--data", data, "--to", urls[2]])
    t.ok(r.returncode == 0, "the clinic delivers the sealed table to the computing node", r.stderr)
    before = http(urls[2] + "/v1/accounts/" + n2)[1]["balances"]["csc"]
    r, ran = clij(2, ["exchange", "run", "--from", "node", "--request", rq["tx"], "--escrow", esc,
                      "--algorithm-file", script])
    t.ok(r.returncode == 0 and ran and ran["scenario"] == "integrated"
         and ran["scenario_reason"] == "dependencies",
         "the computing node runs it, recorded integrated (dependencies)", r.stdout + r.stderr)
    after = http(urls[2] + "/v1/accounts/" + n2)[1]["balances"]["csc"]
    t.ok(after - before > 3 * M - 10000, "the computing node is paid its fee through the escrow",
         (before, after))

    # ---- a vote gives a member the computing kind -------------------------------------------------
    # institution-3 (audit only) was refused the off-site run rq_off above
    vote2(["governance", "propose", "kinds", "--member", n3, "--kinds", "audit,computing"],
          "institution-3's kinds: audit, computing")
    def kinds3():
        return [{m["address"]: m["kinds"] for m in http(urls[i] + "/v1/members")[1]["members"]}
                .get(n3) for i in (1, 2, 3)]
    wait_for(lambda: kinds3() == ["computing,audit"] * 3, 30)
    t.eq(kinds3(), ["computing,audit"] * 3, "every node lists institution-3 with its new kinds")
    r, es = clij(1, ["exchange", "escrow", "--from", "alice", "--request", rq_off, "--executor",
                     n3, "--compute-fee", "2"])
    t.ok(r.returncode == 0 and es, "the escrow for the off-site run at institution-3, refused "
         "before the vote, is accepted", r.stdout + r.stderr)
    esc = es["escrow"] if es else "0" * 64
    r = cli(1, ["exchange", "send", "--from", "clinic", "--request", rq_off, "--escrow", esc,
                "--data", data, "--to", urls[3]])
    t.ok(r.returncode == 0, "the clinic delivers the sealed table to institution-3", r.stderr)
    r, ran = clij(3, ["exchange", "run", "--from", "node", "--request", rq_off, "--escrow", esc])
    t.ok(r.returncode == 0 and ran and ran.get("scenario") == "off-site",
         "institution-3, now a computing node, executes the off-site run", r.stdout + r.stderr)
    st, rv = http(urls[1] + "/v1/exchange/requests/" + rq_off)
    t.ok(st == 200 and rv.get("status") != "approved" and rv.get("scenario") == "off-site",
         "every node records the run", rv)


if __name__ == "__main__":
    main()
