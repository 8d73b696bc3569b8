#!/usr/bin/env python3
"""Role checks of the business applications (docs/apps.md §1 and §4), attack tests first, on a
real node whose genesis lists two member institutions (the node key and bob's key): a stranger
(an account that is no member: the clinic, alice) may not declare a referral specialty nor
take a surgery hospital id, each refused with its own error (LB_EUNAUTH "not a member
institution") and nothing changed (no tx of the stranger on the chain, its nonce unchanged, no
alarm recorded); the refusals hold for txs sent raw as well as through the CLI; a member
declares a specialty; a hospital id is its member's name (or NAME:SITE): member A's alarms
under B's id, B's site id or an id of no member are refused with nothing recorded, B's own
alarms are recorded. A chain whose genesis predates the binding (no "surgery" key) keeps the
first-come rule and replays. The chains replay (`leben verify`)."""

import json
import os
import pathlib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Node, run_cli, run_node, uvarint  # noqa: E402

SPEC = "fetal-cardiology"
MODEL = "ab" * 32


def canon(d):
    return json.dumps(d, sort_keys=True, separators=(",", ":"))


def alarm(hospital, surgeon="S1", case=5):
    return canon({"case": case, "cases": 9, "h": 4.5, "hospital": hospital, "model": MODEL,
                  "procedure": "", "ra": 2, "surgeon": surgeon, "value": 5.0})


def main():
    run_node(both, genesis=two_members)


def both(t, node):
    run(t, node)
    # a second node whose genesis predates the binding
    old = Node()
    try:
        path = pathlib.Path(old.home, "genesis.json")
        path.write_text(json.dumps(old_genesis(json.loads(path.read_text()), old)))
        old.start()
        run_old(t, old)
    finally:
        old.cleanup()


def old_genesis(g, node):
    """A genesis written before hospital ids were bound: no "surgery" key."""
    two_members(g, node)
    g.pop("surgery", None)
    return g


def run_old(t, node):
    """First-come, as before: B takes H9, then A is refused under it; the chain replays."""
    def raw(sender, payload):
        return node.cli(["tx", "raw", "--from", sender, "--chain", "business", "--type-id",
                         str(0x03b8), "--payload", payload.hex(), "--wait"])
    r = raw("bob", alarm("H9").encode())
    t.eq(r.returncode, 0, "old rule: member B records under H9 " + r.stderr)
    r = raw("node", alarm("H9", case=6).encode())
    out = r.stdout + r.stderr
    t.ok(r.returncode != 0 and "records its alarms with another key" in out,
         "old rule: member A is refused under H9, held by B", out)
    r = run_cli(["verify", "--home", node.home])
    t.ok(r.returncode == 0, "leben verify replays the chain of the old rule",
         r.stdout[-400:] + r.stderr[-400:])


def two_members(g, node):
    g["members"] = [
        {"name": "Institution-A", "address": node.address("node"), "kinds": ["data"]},
        {"name": "Institution-B", "address": node.address("bob"), "kinds": ["audit"]},
    ]


def run(t, node):
    A = node.address

    def history(who):
        st, j = node.get("/v1/accounts/%s/txs?limit=100" % A(who))
        return sorted(x.get("type", "") for x in (j.get("txs") or [])) if st == 200 else None

    def nonce(who):
        return node.account(A(who))["chains"]["business"]

    def alarms(hospital, surgeon="S1"):
        st, j = node.get("/v1/surgery/alarms/%s/%s" % (hospital, surgeon))
        return [(a.get("case"), a.get("sender")) for a in j.get("alarms", [])] if st == 200 else st

    def raw(sender, type_id, payload):
        return node.cli(["tx", "raw", "--from", sender, "--chain", "business", "--type-id",
                         str(type_id), "--payload", payload.hex(), "--wait"])

    st, m = node.get("/v1/members")
    t.eq((st, m.get("count")), (200, 2), "genesis lists two member institutions")

    # ---- referral.specialist: strangers refused ----
    before = {w: (history(w), nonce(w)) for w in ("clinic", "alice")}
    r = node.cli(["referral", "specialist", SPEC, "--from", "clinic"])
    out = r.stdout + r.stderr
    t.ok(r.returncode == 1 and "not a member institution" in out and "LB_EUNAUTH" in out
         and A("clinic") in out and "declare a specialty" in out,
         "CLI: a stranger (the clinic) may not declare a specialty", out)
    # the same tx sent raw (version 1, the specialty as text)
    pl = b"\x01" + uvarint(len(SPEC)) + SPEC.encode()
    r = raw("alice", 0x03a0, pl)
    out = r.stdout + r.stderr
    t.ok(r.returncode != 0 and "not a member institution" in out and "LB_EUNAUTH" in out,
         "raw referral.specialist from a stranger (alice) is refused", out)
    t.eq({w: (history(w), nonce(w)) for w in ("clinic", "alice")}, before,
         "the refused declarations left no tx and no nonce behind")

    # ---- surgery.alarm: a stranger may not take a hospital id ----
    r = raw("clinic", 0x03b8, alarm("Institution-B").encode())
    out = r.stdout + r.stderr
    t.ok(r.returncode != 0 and "not a member institution" in out and "LB_EUNAUTH" in out
         and "record surgery alarms" in out,
         "a stranger's alarm under member B's hospital id is refused", out)
    t.eq(alarms("Institution-B"), [], "no alarm recorded for B")

    # ---- hospital ids are the members' names (genesis "surgery": {"bind_hospitals": true},
    # what `leben init` writes): A may not record under B's id, first or not ----
    before = (alarms("Institution-B"), alarms("Institution-B:Cardiac"), nonce("node"))
    for hid in ("Institution-B", "Institution-B:Cardiac", "H9", "Institution", "Institution-AB"):
        r = raw("node", 0x03b8, alarm(hid).encode())
        out = r.stdout + r.stderr
        t.ok(r.returncode != 0 and "is not the sender's" in out and "LB_EUNAUTH" in out
             and '"Institution-A"' in out,
             "member A's alarm under %r (not its name) is refused" % hid, out)
    t.eq((alarms("Institution-B"), alarms("Institution-B:Cardiac"), nonce("node")), before,
         "the refused alarms recorded nothing and left A's nonce")
    t.eq(alarms("H9"), [], "nothing recorded under H9")

    # ---- members may ----
    r = node.cli(["referral", "specialist", SPEC, "--from", "bob"])
    t.eq(r.returncode, 0, "member institution B declares the specialty " + r.stderr)
    t.ok("referral.specialist" in (history("bob") or []), "its declaration is on the chain",
         history("bob"))
    bob_pk = node.key("bob")["public_key"]
    for hid in ("Institution-B", "Institution-B:Cardiac"):
        r = raw("bob", 0x03b8, alarm(hid).encode())
        t.eq(r.returncode, 0, "member B records an alarm under its own id %r " % hid + r.stderr)
        t.eq(alarms(hid), [(5, bob_pk)], "the alarm under %r is B's" % hid)
    r = raw("clinic", 0x03b8, alarm("Institution-B", case=7).encode())
    out = r.stdout + r.stderr
    t.ok(r.returncode != 0 and "not a member institution" in out,
         "nor may the stranger record under B's id", out)
    t.eq(alarms("Institution-B"), [(5, bob_pk)], "the refused alarms changed nothing")
    r = raw("node", 0x03b8, alarm("Institution-A").encode())
    t.eq(r.returncode, 0, "member A records under its own id " + r.stderr)

    # ---- a second member of B's name would hold B's ids: admission refused (genesis
    # "governance": {"unique_names": true}, what `leben init` writes) ----
    before = (node.get("/v1/members"), nonce("node"))
    for name in ("Institution-B", "Institution-B:Cardiac"):
        r = node.cli(["governance", "propose", "admit", "--member", A("clinic"), "--name", name,
                      "--kinds", "data", "--from", "node", "--wait"])
        out = r.stdout + r.stderr
        t.ok(r.returncode != 0 and "LB_EEXISTS" in out and 'is named "Institution-B"' in out
             and "another --name" in out,
             "admitting the clinic as %r (member B's name or site) is refused" % name, out)
    t.eq((node.get("/v1/members"), nonce("node")), before,
         "the refused admissions changed no member and left A's nonce")

    r = run_cli(["verify", "--home", node.home])
    t.ok(r.returncode == 0, "leben verify replays the chains", r.stdout[-400:] + r.stderr[-400:])


if __name__ == "__main__":
    main()
