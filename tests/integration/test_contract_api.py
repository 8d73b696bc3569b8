#!/usr/bin/env python3
"""POST /v1/contracts/convert and POST /v1/contracts/check (the knowledge designer's routes)
through a real node: every example contract converts .pf -> PROformajs JSON -> .pf with the
same model hash and the CLI's canonical print; the check of each faulty example names the
findings `leben contract check --json` names; a contract without findings carries what a
publication needs (the canonical source, its hash and the report's hash, recomputed here);
malformed bodies, an unknown form and a syntax error are refused with the place of the error."""

import glob
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import ROOT, Node, Tap, run_cli  # noqa: E402

EX = os.path.join(ROOT, "examples", "contracts")


def h(domain, data):
    return hashlib.blake2b(domain.encode() + b"\0" + data, digest_size=32).hexdigest()


def main():
    t = Tap()
    node = Node(demo=True)
    try:
        node.start()
        post = lambda p, b: node.http("POST", p, b)[:2]  # noqa: E731
        for f in sorted(glob.glob(os.path.join(EX, "*.pf"))):
            name = os.path.basename(f)
            src = open(f).read()
            canon = run_cli(["contract", "print", f]).stdout
            st, j = post("/v1/contracts/convert", {"source": src, "to": "json"})
            ok = st == 200 and json.loads(j["source"]).get("class") == "Plan"
            st2, k = post("/v1/contracts/convert", {"source": j["source"], "to": "pf"}) if ok else (0, {})
            t.ok(ok and st2 == 200 and k["hash"] == j["hash"] == h("LEBEN-contract-v1", canon.encode())
                 and k["source"] == canon,
                 "%s: .pf -> JSON -> .pf keeps the model (hash and canonical print)" % name, (st, st2))
        for f in sorted(glob.glob(os.path.join(EX, "faulty", "*.pf"))):
            name = os.path.basename(f)
            want = json.loads(run_cli(["contract", "check", f, "--json"]).stdout)
            st, j = post("/v1/contracts/check", {"source": open(f).read()})
            t.ok(st == 200 and j["failures"] > 0 and "publish" not in j and
                 [(x["kind"], x.get("task")) for x in j["findings"]] ==
                 [(x["kind"], x.get("task")) for x in want["findings"]],
                 "faulty/%s: the node's check names the CLI's findings" % name, (st, j))
        sepsis = os.path.join(EX, "sepsis.pf")
        canon = run_cli(["contract", "print", sepsis]).stdout.encode()
        report = run_cli(["contract", "check", sepsis, "--json"]).stdout.encode()
        st, j = post("/v1/contracts/check", {"source": open(sepsis).read()})
        p = j.get("publish", {})
        t.ok(st == 200 and j["failures"] == 0 and p.get("canonical", "").encode() == canon and
             p.get("source_hash") == h("LEBEN-contract-v1", canon) and
             p.get("report_hash") == h("LEBEN-contract-report-v1", report),
             "a contract without findings carries its canonical source and both hashes", (st, p))
        for path, body, code, what in (
                ("/v1/contracts/check", {"src": "x"}, 400, "no source"),
                ("/v1/contracts/convert", {"source": open(sepsis).read(), "to": "xml"}, 400, "unknown form"),
                ("/v1/contracts/convert", {"source": "plan :: x ;", "to": "pf"}, 400, "syntax error"),
                ("/v1/contracts/check", {"source": ""}, 429, "empty source")):
            st, j = post(path, body)
            t.ok(st == code and "error" in j, "%s refused with %d: %s" % (what, code, j.get("error", {}).get("message")), (st, j))
        st, j = post("/v1/contracts/convert", {"source": "plan :: x ;", "to": "pf"})
        t.ok("source:1:" in j.get("error", {}).get("message", ""), "a syntax error names its line and column", j)
    finally:
        node.cleanup()
    t.done()


if __name__ == "__main__":
    main()
