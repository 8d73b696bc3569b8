#!/usr/bin/env python3
"""A damaged <home>/fhir/asset.json (the node's FHIR directory entry: asset id, committed
version, head) no longer stops the entry's updates, through a real node: the node rebuilds
the file from the directory chain (its own newest data.register/data.update of the FHIR
entry), keeps the damaged file beside it as asset.json.damaged-<ms>, says so in its log, and
the next write updates the same asset (version 2 after 1, then 3), as it would have done
without the damage. Not JSON and JSON that is not an object are both mended."""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import run_node, wait_for  # noqa: E402
from test_fhir import Key, call, members  # noqa: E402
from test_fhir_purge import asset_state, bundle, entry_after, features, obs, patient  # noqa: E402


def run(t, node):
    member = Key(b"\x33" * 32)
    members(node, member)
    st, j = call(node, member, "POST", "/fhir", bundle([patient("p1"), obs("o1", "p1")]))
    t.ok(st == 200, "the institution writes a patient and an observation", j)
    e = entry_after(node, 1)
    first = asset_state(node)
    t.ok(first.get("version") == 1 and features(e).get("resources.Observation") == "1",
         "the node registered its FHIR entry (version 1)", (first, e))
    path = os.path.join(node.home, "fhir", "asset.json")

    for version, bad in ((2, '{"asset_id": "ab'), (3, "[1, 2]")):
        with open(path, "w") as f:
            f.write(bad)
        st, j = call(node, member, "POST", "/fhir",
                     bundle([obs("o%d" % version, "p1", when="2024-0%d-01T08:00:00Z" % version)]))
        t.ok(st == 200, "a write after asset.json was damaged (%r) is stored" % bad, j)
        e = entry_after(node, version)
        a = asset_state(node)
        t.ok(a.get("asset_id") == first["asset_id"] and a.get("version") == version
             and a.get("created") == first["created"]
             and features(e).get("resources.Observation") == str(version),
             "the entry's update went through on the same asset (version %d)" % version, (a, e))
        kept = [p for p in glob.glob(path + ".damaged-*") if open(p).read() == bad]
        t.eq(len(kept), 1, "the damaged file is kept beside it, unchanged")
        said = wait_for(lambda: [ln for ln in node.log if "rebuilt it from the directory chain"
                                 in ln and os.path.basename(kept[0] if kept else "?") in ln], 10)
        t.ok(said, "the node's log says what it found and where the damaged file went",
             "".join(node.log[-20:]))
    st, s = node.get("/v1/status")
    t.ok(st == 200, "the node goes on serving", s)
    with open(path) as f:
        t.ok(json.load(f).get("version") == 3, "asset.json is whole again")


if __name__ == "__main__":
    run_node(run)
