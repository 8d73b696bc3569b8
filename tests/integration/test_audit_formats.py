#!/usr/bin/env python3
"""Audits by an audit node of more than tables: a FHIR bundle and a DICOM image (pydicom's
CT_small.dcm), on a real node (one institution, so every key holds every role).

For each: the owner publishes and offers the file, keeps it at exchange/assets/<asset>.<ext>,
asks another key for an audit; the auditor has the owner's node run the format's audit in its
sandbox, receives the sealed report and signs the score. Checks: the report names the format
and its checks, its score equals `leben data audit FILE` run here, no value of the file (patient
names, ids) is in it, the directory shows the score signed by the auditor. A file of a type
audit nodes do not audit, and a copy whose bytes are not the offered data, are refused."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import ROOT, run_cli, run_node  # noqa: E402

DICOM = "/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm"
FHIR = os.path.join(ROOT, "tests", "data", "fhir", "bundle.json")


def main():
    run_node(run, tmp="leben-audit-formats-")


def offer(t, n, path, name):
    """Publish and offer path as the clinic; returns the asset id (or None)."""
    r, add = n.cli_json(["data", "add", path, "--key", "clinic", "--price", "1", "--name", name])
    if not t.ok(r.returncode == 0 and add, "%s: the clinic publishes it" % name,
                r.stdout + r.stderr):
        return None
    r, off = n.cli_json(["exchange", "offer", "--from", "clinic", "--asset-tx", add["tx"],
                         "--price", "1"])
    if not t.ok(r.returncode == 0 and off and off.get("asset"), "%s: the clinic offers it" % name,
                r.stdout + r.stderr):
        return None
    return off["asset"]


def audit(t, n, work, path, ext, name, secrets):
    asset = offer(t, n, path, name)
    if not asset:
        return
    keep = os.path.join(n.home, "exchange", "assets")
    os.makedirs(keep, exist_ok=True)
    shutil.copy(path, os.path.join(keep, "%s.%s" % (asset, ext)))
    r = n.cli(["exchange", "audit-request", "--from", "clinic", "--asset", asset, "--auditor",
               "bob"])
    t.ok(r.returncode == 0, "%s: the clinic asks bob for an audit" % name, r.stdout + r.stderr)
    out = os.path.join(work, name + ".report.json")
    r, au = n.cli_json(["exchange", "audit", "--from", "bob", "--asset", asset, "--owner-node",
                        n.url, "--out", out])
    if not t.ok(r.returncode == 0 and au, "%s: bob audits it at the owner's node" % name,
                r.stdout + r.stderr):
        return
    rep = open(out, "rb").read()
    j = json.loads(rep)
    a = j.get("audit", j)
    local = json.loads(run_cli(["data", "audit", path, "--json"]).stdout)
    t.ok(a.get("method") == "leben-asset-audit-v1" and a.get("format") == local["format"],
         "%s: the report is the %s audit" % (name, local["format"]), a)
    t.eq([(c["name"], c["passed"], c["total"]) for c in a.get("checks", [])],
         [(c["name"], c["passed"], c["total"]) for c in local["checks"]],
         "%s: its checks count what `leben data audit` counts here" % name)
    t.eq(au.get("score"), local["score"], "%s: the signed score is the format audit's" % name)
    leaks = [s for s in secrets if s.encode() in rep]
    t.eq(leaks, [], "%s: the report holds counts only, no value of the file" % name)
    st, rec = n.get("/v1/exchange/audits/" + asset)
    t.ok(st == 200 and rec.get("status") == "valid" and rec.get("auditor") == n.address("bob")
         and rec.get("score") == local["score"],
         "%s: the directory shows bob's score" % name, rec)
    return asset


def run(t, n, work):
    bundle = json.load(open(FHIR))
    births = [e["resource"]["birthDate"] for e in bundle["entry"]
              if "birthDate" in e.get("resource", {})]
    t.ok(len(births) >= 2, "the bundle holds patients' birth dates", births)
    audit(t, n, work, FHIR, "json", "fhir-bundle", births)
    # CT_small.dcm's patient name, patient id and study date (as pydicom reads them)
    audit(t, n, work, DICOM, "dcm", "ct-small", ["CompressedSamples", "1CT1", "20040119"])

    # a copy that is not the offered data is refused
    note = os.path.join(work, "note.txt")
    with open(note, "w") as f:
        f.write("Discharge summary. The patient recovered well and went home on day three.\n")
    asset = offer(t, n, note, "note")
    if asset:
        keep = os.path.join(n.home, "exchange", "assets", asset + ".txt")
        with open(keep, "w") as f:
            f.write("another text\n")
        n.cli(["exchange", "audit-request", "--from", "clinic", "--asset", asset, "--auditor",
               "bob"])
        r = n.cli(["exchange", "audit", "--from", "bob", "--asset", asset, "--owner-node", n.url])
        t.ok(r.returncode != 0 and "not the registered data" in r.stdout + r.stderr,
             "a kept copy whose bytes differ from the offered data is not audited",
             r.stdout + r.stderr)

    damaged_assets(t, n, work)


def damaged_assets(t, n, work):
    """A damaged <home>/data/assets.json stops `data add` with the file's name, is left as it
    was and nothing is published (it is never started afresh over)."""
    p = os.path.join(n.home, "data", "assets.json")
    with open(p, "rb") as f:
        good = f.read()
    bad = b'{"format": 2, "assets": {'
    with open(p, "wb") as f:
        f.write(bad)
    src = os.path.join(work, "more.txt")
    with open(src, "w") as f:
        f.write("one more note\n")
    nonce = n.account("clinic")["chains"]["directory"]["next_nonce"]
    r = n.cli(["data", "add", src, "--key", "clinic", "--price", "1", "--name", "more"])
    t.ok(r.returncode == 1 and p in r.stderr and "move it away" in r.stderr,
         "data add with a damaged assets.json is refused, naming the file", r.stdout + r.stderr)
    with open(p, "rb") as f:
        t.eq(f.read(), bad, "the damaged assets.json is left as it was")
    t.eq(n.account("clinic")["chains"]["directory"]["next_nonce"], nonce,
         "the clinic sent nothing to the directory chain")
    with open(p, "wb") as f:
        f.write(good)


if __name__ == "__main__":
    main()
