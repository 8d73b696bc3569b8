#!/usr/bin/env python3
"""Defects a new user met when trying the CLI, each reproduced through the real CLI and a real
node (a solo node; the consortium case of the anchoring rule is in test_cluster_anchor.py).

Home: with LEBEN_HOME as the only way the home is given (no --home; the node's port in the
home's config.json, no --node), `keys recovery-commit`, `keys split`, `keys open-share`,
`keys follow` and `policy set` find the home's keys and node.

Credits: `tx burn --asset asc` burns ASC or is refused (white paper: only CSC is burned),
`--asset` of an unknown credit is refused, and `tx issue` charges no fee (fee 0 accepted,
the default fee not charged), as docs/architecture.md says.

Key reset: a refused `keys reset` writes no key file and says why the node refused it.

Anchoring: on a quiet network (no other traffic) `keys reset` with its follow-up to the
settlement and directory chains, and `exchange offer` citing a directory registration, finish
within seconds: the node makes the anchoring block itself (an empty block).

Sequential multi-signatures: errors number owners as the user gave them to `policy new`."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import BIN, env, run_cli, run_node  # noqa: E402
import subprocess  # noqa: E402


def home_only(node, args, timeout=300):
    """The CLI with LEBEN_HOME only: no --home, no --node, no LEBEN_NODE."""
    e = env()
    e["LEBEN_HOME"] = node.home
    return subprocess.run([BIN] + args, capture_output=True, text=True, env=e, timeout=timeout)


def point_config_at(node):
    """The home's config.json names the running node's port, as on a real installation."""
    p = os.path.join(node.home, "config.json")
    cfg = json.load(open(p))
    cfg["api_port"] = node.port
    json.dump(cfg, open(p, "w"))


def heights(node):
    st, j = node.get("/v1/chains")
    return {c["name"]: c["height"] for c in j["chains"]} if st == 200 else {}


def test_home(t, node, d):
    point_config_at(node)
    sec = os.path.join(d, "home-secret")
    open(sec, "w").write("violet-harbour-77-lantern-quartz\n")
    r = home_only(node, ["keys", "recovery-commit", "clinic", "--secret-file", sec, "--ops", "1",
                         "--mem-kib", "8192", "--json"])
    t.ok(r.returncode == 0 and "(null)" not in r.stderr,
         "keys recovery-commit with LEBEN_HOME only", r.stderr)
    r = home_only(node, ["keys", "split", "clinic", "--threshold", "2", "--guardians",
                         "alice,bob", "--out", d, "--json"])
    ok = t.ok(r.returncode == 0 and "(null)" not in r.stderr, "keys split with LEBEN_HOME only",
              r.stderr)
    if ok:
        f = json.loads(r.stdout)["shares"][0]["file"]
        r = home_only(node, ["keys", "open-share", f, "--key", "alice", "--out", f + ".o"])
        t.ok(r.returncode == 0 and os.path.exists(f + ".o"),
             "keys open-share with LEBEN_HOME only", r.stderr)
    # policy set: a co-owner policy on an asset id
    vk = run_cli(["kes", "keygen", "--out", os.path.join(d, "h.sk")]).stdout.strip()
    pol = os.path.join(d, "h-policy.json")
    r = home_only(node, ["policy", "new", "--owners", vk, "--threshold", "1", "--epoch-blocks",
                         "100", "--out", pol])
    t.ok(r.returncode == 0, "policy new with LEBEN_HOME only (asks the home's node)", r.stderr)
    r = home_only(node, ["policy", "set", "--from", "clinic", "--asset", "ab" * 32, "--policy",
                         pol])
    t.ok(r.returncode == 0 and "(null)" not in r.stderr, "policy set with LEBEN_HOME only",
         r.stderr)
    r = home_only(node, ["keys", "reset", "clinicnew", "--account", node.address("clinic"),
                         "--secret-file", sec, "--no-follow"])
    t.ok(r.returncode == 0 and os.path.exists(os.path.join(node.home, "keys", "clinicnew.key")),
         "keys reset with LEBEN_HOME only (the new key lands in that home)", r.stderr)
    r = home_only(node, ["keys", "show", "nobody"])
    t.ok(r.returncode == 1 and node.home + "/keys" in r.stderr,
         "a missing key is looked for in LEBEN_HOME's keys", r.stderr)


def test_multisig_numbering(t, d):
    vks = []
    for i in range(3):
        r = run_cli(["kes", "keygen", "--out", os.path.join(d, "o%d.sk" % (i + 1))])
        vks.append(r.stdout.strip())
    # the user's order: owner 1, 2, 3 as given; the policy signs in key order
    pol = os.path.join(d, "ms-policy.json")
    r = run_cli(["policy", "new", "--owners", ",".join(vks), "--threshold", "2",
                 "--epoch-blocks", "100", "--start-height", "1", "--out", pol])
    order = sorted(range(3), key=lambda i: vks[i])  # key order, as indexes into the given list
    want = ", ".join(str(i + 1) for i in order)
    t.ok(r.returncode == 0 and ("owners %s" % want) in r.stdout,
         "policy new prints the signing order numbered as given (%s)" % want, r.stdout + r.stderr)
    asset = "cd" * 32
    first, second = order[1], order[0]  # the second in key order signs first: allowed
    r = run_cli(["policy", "sign", "--key", os.path.join(d, "o%d.sk" % (first + 1)), "--policy",
                 pol, "--asset", asset, "--act", "share", "--sequential"])
    if not t.ok(r.returncode == 0, "owner %d signs first" % (first + 1), r.stderr):
        return
    prev = r.stdout.strip()
    r = run_cli(["policy", "sign", "--key", os.path.join(d, "o%d.sk" % (second + 1)), "--policy",
                 pol, "--asset", asset, "--act", "share", "--sequential", "--prev", prev])
    t.ok(r.returncode == 1 and ("owner %d (this key) cannot sign after owner %d"
                                % (second + 1, first + 1)) in r.stderr
         and ("owners %s" % want) in r.stderr,
         "signing out of order names owners as given (owner %d after owner %d)"
         % (second + 1, first + 1), r.stderr)
    r = run_cli(["policy", "sign", "--key", os.path.join(d, "o%d.sk" % (first + 1)), "--policy",
                 pol, "--asset", asset, "--act", "share", "--sequential", "--prev", prev])
    t.ok(r.returncode == 1 and ("owner %d (this key) has signed" % (first + 1)) in r.stderr,
         "signing twice names the owner as given", r.stderr)


def balances(node, who):
    b = node.account(who)["balances"]
    return b["asc"], b["csc"]


def test_credits(t, node):
    before = balances(node, "alice")
    r = node.cli(["tx", "burn", "--from", "alice", "--amount", "1", "--asset", "asc", "--wait"])
    t.ok(r.returncode == 2 and "ASC cannot be burned" in r.stderr,
         "tx burn --asset asc is refused (only CSC is burned)", r.stderr)
    r = node.cli(["tx", "burn", "--from", "alice", "--amount", "1", "--asset", "gold", "--wait"])
    t.ok(r.returncode == 2 and "'gold'" in r.stderr, "tx burn --asset of an unknown credit is "
         "refused", r.stderr)
    r = node.cli(["tx", "record", "--from", "alice", "--kind", "k", "--subject", "s", "--asset",
                  "csc"])
    t.ok(r.returncode == 2 and "takes no --asset" in r.stderr,
         "--asset on a kind that names no credit is refused", r.stderr)
    t.eq(balances(node, "alice"), before, "refused burns change no balance")
    r, j = node.cli_json(["tx", "burn", "--from", "alice", "--amount", "1", "--asset", "csc",
                          "--wait"])
    after = balances(node, "alice")
    fee = j["fee"] if j else None
    t.ok(r.returncode == 0 and after[0] == before[0] and after[1] == before[1] - 1000000 - fee,
         "tx burn --asset csc burns CSC (and its fee) and leaves ASC alone",
         (r.stderr, before, after, fee))
    bank = balances(node, "bank")
    r, j = node.cli_json(["tx", "issue", "--from", "bank", "--to", "alice", "--amount", "5",
                          "--wait"])
    t.ok(r.returncode == 0 and j and j["fee"] == 0, "tx issue charges no fee (issue is exempt)",
         (r.stderr, j))
    t.eq(balances(node, "bank")[1], bank[1], "the credit partner's CSC is unchanged by issuing")
    t.eq(balances(node, "alice")[0], after[0] + 5000000, "5 ASC issued to alice")
    r = node.cli(["tx", "issue", "--from", "bank", "--to", "alice", "--amount", "5", "--asset",
                  "csc"])
    t.ok(r.returncode == 2 and "issue creates ASC only" in r.stderr,
         "tx issue --asset csc is refused", r.stderr)
    st, status = node.get("/v1/status")
    t.ok(status.get("fees", {}).get("types", {}).get("issue") == 0,
         "/v1/status lists the issue fee (0) among the per-type fees", status.get("fees"))


def test_reset(t, node, d):
    """A refused reset leaves no key file and says why; a good one with its follow-up finishes
    on a quiet network because the node makes the anchoring blocks itself."""
    sec = os.path.join(d, "bob-secret")
    wrong = os.path.join(d, "bob-wrong")
    open(sec, "w").write("amber-tundra-12-falcon-meadow\n")
    open(wrong, "w").write("amber-tundra-12-falcon-meadoq\n")
    bob = node.address("bob")
    r = node.cli(["keys", "recovery-commit", "bob", "--secret-file", sec, "--ops", "1",
                  "--mem-kib", "8192"])
    t.ok(r.returncode == 0, "bob records a recovery commitment", r.stderr)
    keyfile = os.path.join(node.home, "keys", "bobnew.key")
    r = node.cli(["keys", "reset", "bobnew", "--account", bob, "--secret-file", wrong])
    t.ok(r.returncode == 1 and not os.path.exists(keyfile),
         "a refused reset leaves no key file behind", r.stderr)
    t.ok("proof of ownership does not hold" in r.stderr and "recovery secret" in r.stderr
         and "not signed for this network" not in r.stderr,
         "the refusal says the recovery secret does not match (not a network mix-up)", r.stderr)
    # quiet network: nothing else is sent while the reset is carried to the other chains
    time.sleep(1)
    start = time.time()
    r = node.cli(["keys", "reset", "bobnew", "--account", bob, "--secret-file", sec,
                  "--timeout", "60", "--json"])
    took = time.time() - start
    out = json.loads(r.stdout) if r.returncode == 0 else None
    t.ok(out is not None and all(out["follow"][c]["status"] == "followed"
                                 for c in ("settlement", "directory")),
         "keys reset is carried to settlement and directory with no other traffic",
         r.stdout + r.stderr)
    t.ok(took < 30, "... within seconds (%.1f s), not waiting on unrelated txs" % took)
    if out:
        # keys follow with LEBEN_HOME only: the home's key and node are found
        r = home_only(node, ["keys", "follow", "--tx", out["tx"], "--json"])
        t.ok(r.returncode == 0 and "(null)" not in r.stderr
             and all(v["status"] == "already" for v in json.loads(r.stdout)["follow"].values()),
             "keys follow with LEBEN_HOME only (already carried)", r.stdout + r.stderr)
        # the node made an empty settlement block anchoring the reset's business block
        reset_h = node.wait_tx(out["tx"])["height"]
        st, top = node.get("/v1/chains/settlement/blocks/latest")
        empty = []
        for h in range(1, top["height"] + 1):
            st, b = node.get("/v1/chains/settlement/blocks/%d" % h)
            if b["tx_count"] == 0 and b["anchors"]["business"]["height"] >= reset_h:
                empty.append(h)
        t.ok(len(empty) == 1, "one empty settlement block anchors the reset's business block "
             "%d (blocks %s)" % (reset_h, empty))


def test_offer_quiet(t, node, d):
    data = os.path.join(d, "quiet.csv")
    open(data, "w").write("patient_id,age\nP1,40\nP2,41\n")
    r, reg = node.cli_json(["tx", "asset-register", "--from", "alice", "--content-file", data,
                            "--wait"])
    if not t.ok(r.returncode == 0 and reg, "asset registered (directory)", r.stderr):
        return
    before = heights(node)
    start = time.time()
    r = node.cli(["exchange", "offer", "--from", "alice", "--asset-tx", reg["id"], "--price",
                  "1"])
    took = time.time() - start
    t.ok(r.returncode == 0, "exchange offer right after the registration, with no other "
         "business traffic (%.1f s)" % took, r.stdout + r.stderr)
    after = heights(node)
    t.ok(after.get("business", 0) >= before.get("business", 0) + 2,
         "the node made the anchoring business block itself (then the offer's block)",
         (before, after))


def main():
    def run(t, node, d):
        test_home(t, node, d)
        test_multisig_numbering(t, d)
        test_credits(t, node)
        test_reset(t, node, d)
        test_offer_quiet(t, node, d)
    run_node(run, tmp="leben-cli-defects-",
             verify="leben verify replays the chains with their empty blocks")


if __name__ == "__main__":
    main()
