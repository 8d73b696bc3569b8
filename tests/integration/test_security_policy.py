#!/usr/bin/env python3
"""Co-owner policies through a real node: a 2-of-3 policy over three forward-secure keys with
periods of 3 blocks; an act approved by two owners (broadcast form) is recorded once (the
same approval again is refused), one owner alone is refused, approvals signed for a period the
chain has left are refused while the owners' updated keys are accepted (and an updated key can
no longer go back to the past period); the sequential form is accepted; an unknown asset is
refused; changing the policy needs the current owners' approval, after which the new
threshold (3 of 3) holds. The period the test expects is computed here from the block height
of each committed tx, independently of the node."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Tap, run_cli, run_node  # noqa: E402

EPOCH = 3


def main():
    t = Tap()
    r = run_cli(["policy", "--help"])
    t.ok(r.returncode == 0 and "usage: leben policy" in r.stdout, "policy --help", r.stderr)
    run_node(run, tmp="leben-policy-", t=t)


def height(node):
    st, j = node.get("/v1/status")
    return j["chains"]["business"]["height"]


def run(t, node, d):
    keys, vks = [], []
    for i in range(3):
        k = os.path.join(d, "owner%d.kes" % i)
        r = run_cli(["kes", "keygen", "--out", k, "--seed", ("%02x" % (0x31 + i)) * 32])
        t.ok(r.returncode == 0, "owner %d KES key" % i, r.stderr)
        keys.append(k)
        vks.append(r.stdout.strip())
    pol = os.path.join(d, "policy.json")
    r = node.cli(["policy", "new", "--owners", ",".join(vks), "--threshold", "2",
                  "--epoch-blocks", str(EPOCH), "--out", pol, "--json"])
    if not t.ok(r.returncode == 0, "policy new 2 of 3", r.stderr):
        return
    start = json.load(open(pol))["start_height"]
    t.eq(start, height(node) + 1, "period 0 starts at the next block")
    asset = "a5" * 32
    other = "5a" * 32
    r = node.cli(["policy", "set", "--from", "clinic", "--asset", asset, "--policy", pol,
                  "--json"])
    if not t.ok(r.returncode == 0, "policy.set recorded", r.stderr):
        return
    t.eq(json.loads(r.stdout)["payload"]["threshold"], 2, "recorded threshold 2")
    st, j = node.get("/v1/policies/" + asset)
    t.ok(st == 200 and j["threshold"] == 2 and j["owners"] == sorted(vks)
         and j["creator"] == node.address("clinic") and j["start_height"] == start
         and j["epoch_blocks"] == EPOCH, "GET /v1/policies/ASSET shows the policy", j)
    st, j = node.get("/v1/policies/" + "5a" * 32)
    t.ok(st == 404 and j["error"]["code"] == "LB_ENOTFOUND", "an asset without policy: 404", j)
    st, j = node.get("/v1/policies/xyz")
    t.ok(st == 400 and j["error"]["code"] == "LB_EMALFORMED", "a malformed asset id: 400", j)

    def period_next():
        return (height(node) + 1 - start) // EPOCH

    def sign(i, act, extra=None, policy=None):
        args = ["policy", "sign", "--key", keys[i], "--policy", policy or pol, "--asset", asset]
        args += extra if extra else ["--act", act]
        r = node.cli(args)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        return r.stdout.strip()

    def update_all(p):
        for k in keys:
            r = run_cli(["kes", "update", "--key", k, "--to", str(p)])
            if r.returncode != 0 and "keys only move forward" not in r.stderr:
                raise RuntimeError(r.stderr)

    def approve(act, approvals=None, multisig=None, a=asset):
        args = ["policy", "approve", "--from", "clinic", "--asset", a, "--act", act]
        args += ["--approvals", ",".join(approvals)] if approvals else ["--multisig", multisig]
        return node.cli(args)

    p = period_next()
    r = node.cli(["policy", "period", "--policy", pol])
    t.eq(r.stdout.strip(), str(p), "policy period agrees with the height")
    update_all(p)
    act = "grant execution of asset a5 to lb1example"
    a0, a2 = sign(0, act), sign(2, act)
    t.ok(a0.startswith("%d:" % p), "an approval names its period")
    r = approve(act, [a0])
    t.ok(r.returncode == 1 and "1 of 2 required owners" in r.stderr, "one owner alone refused",
         r.stderr)
    r = approve(act, [a0, a2], a=other)
    t.ok(r.returncode == 1 and "no co-owner policy" in r.stderr, "unknown asset refused", r.stderr)
    r = approve("grant execution of asset a5 to lb1other", [a0, a2])
    t.ok(r.returncode == 1 and "invalid" in r.stderr, "approvals of another act refused", r.stderr)
    p = period_next()
    update_all(p)
    a0, a2 = sign(0, act), sign(2, act)
    r = approve(act, [a0, a2])
    t.ok(r.returncode == 0, "2 of 3 owners approve (broadcast)", r.stderr)
    r = approve(act, [a0, a2])
    t.ok(r.returncode == 1 and "already approved" in r.stderr, "the same approval again refused",
         r.stderr)

    # move the chain into the next period while holding approvals of the current one
    act2 = "grant execution of asset a5 to lb1second"
    p = period_next()
    update_all(p)
    b0, b1 = sign(0, act2), sign(1, act2)
    while period_next() == p:
        r = node.cli(["tx", "record", "--from", "bob", "--kind", "tick", "--subject", "t",
                      "--wait"])
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
    r = approve(act2, [b0, b1])
    t.ok(r.returncode == 1 and "signed for period %d" % p in r.stderr,
         "approvals from a past period refused", r.stderr)
    p2 = period_next()
    update_all(p2)
    r = run_cli(["kes", "update", "--key", keys[0], "--to", str(p)])
    t.ok(r.returncode == 1, "an updated key cannot go back to the past period", r.stderr)
    b0, b1 = sign(0, act2), sign(1, act2)
    t.ok(b0.startswith("%d:" % p2), "owners sign at the new period")
    r = approve(act2, [b0, b1])
    t.ok(r.returncode == 0, "approval at the new period accepted", r.stderr)

    # sequential form: owner 1 then owner 2 over the message and the previous signature
    act3 = "sequential act"
    p = period_next()
    update_all(p)
    s1 = sign(1, act3, ["--act", act3, "--sequential"])
    s2 = sign(2, act3, ["--act", act3, "--sequential", "--prev", s1])
    r = approve(act3, multisig=s1)
    t.ok(r.returncode == 1 and "1 of 2" in r.stderr, "sequential with one signer refused", r.stderr)
    r = approve(act3, multisig=s2)
    t.ok(r.returncode == 0, "sequential 2 of 3 accepted", r.stderr)

    # policy update: threshold 3 of 3, approved by 2 current owners
    pol2 = os.path.join(d, "policy2.json")
    r = node.cli(["policy", "new", "--owners", ",".join(vks), "--threshold", "3",
                  "--epoch-blocks", str(EPOCH), "--start-height", str(start), "--out", pol2])
    t.ok(r.returncode == 0, "policy new 3 of 3", r.stderr)
    r = node.cli(["policy", "set", "--from", "clinic", "--asset", asset, "--policy", pol2])
    t.ok(r.returncode == 1 and "needs their approval" in r.stderr,
         "changing the policy without approval refused", r.stderr)
    p = period_next()
    update_all(p)
    u0 = sign(0, None, ["--update-to", pol2])
    u2 = sign(2, None, ["--update-to", pol2])
    r = node.cli(["policy", "set", "--from", "clinic", "--asset", asset, "--policy", pol2,
                  "--approvals", u0 + "," + u2, "--json"])
    t.ok(r.returncode == 0, "policy changed with 2 owners' approval", r.stderr)
    st, j = node.get("/v1/policies/" + asset)
    t.ok(j.get("threshold") == 3 and j.get("creator") == node.address("clinic"),
         "the recorded policy is the new one (creator kept)", j)
    act4 = "after update"
    p = period_next()
    update_all(p)
    c = [sign(i, act4, policy=pol2) for i in range(3)]
    r = approve(act4, c[:2])
    t.ok(r.returncode == 1 and "2 of 3 required owners" in r.stderr,
         "two owners no longer enough", r.stderr)
    r = approve(act4, c)
    t.ok(r.returncode == 0, "three owners approve under the new policy", r.stderr)


if __name__ == "__main__":
    main()
