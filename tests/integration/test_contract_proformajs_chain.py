#!/usr/bin/env python3
"""A PROformajs JSON protocol published on the business chain through a real node keeps its
form: the payload is version 2, the source the canonical JSON print (hash recomputed here with
the PROformajs domain), the report that of the PROformajs verifier, and the chain's record says
"proformajs". Attacks sent raw past the CLI are refused by the node's own re-verification and
change nothing: a version-2 payload whose report hash is not the PROformajs verifier's (the
LEBEN-rules report), one with a source not in canonical JSON form, and a protocol the PROformajs
verifier rejects (its exploration does not complete). The same protocol published with
`--rules leben` (version 1) is judged by LEBEN's verifier instead, which refuses it. `leben verify` replays the
chains afterwards, re-running the PROformajs verifier."""

import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import ROOT, Node, Tap, run_cli, scratch_dir, uvarint  # noqa: E402

SMALL = os.path.join(ROOT, "tests", "data", "knowledge_json", "valid", "small.json")
BIG = os.path.join(ROOT, "examples", "contracts", "sepsis.json")
EXAMPLE = os.path.join(ROOT, "examples", "contracts", "colectomy_pathway.json")
RISK = os.path.join(ROOT, "examples", "contracts", "chronic_risk.json")


def h(domain, data):
    return hashlib.blake2b(domain.encode() + b"\0" + data, digest_size=32).hexdigest()


def nonce(node, key):
    return node.account(key)["chains"]["business"]["next_nonce"]


def v2(src, report, src_hash=None):
    """A version-2 contract.publish payload: source, its hash (computed unless given), the
    hash of the report bytes."""
    return (b"\x02" + bytes.fromhex(src_hash or h("LEBEN-contract-proformajs-v1", src)) +
            bytes.fromhex(h("LEBEN-contract-report-v1", report)) + uvarint(len(src)) + src)


def v3(src, report, bound):
    """A version-3 payload: as version 2, with the exploration bound after the hashes."""
    return (b"\x03" + bytes.fromhex(h("LEBEN-contract-proformajs-v1", src)) +
            bytes.fromhex(h("LEBEN-contract-report-v1", report)) + uvarint(bound) +
            uvarint(len(src)) + src)


def raw(node, payload):
    return node.cli(["tx", "raw", "--from", "clinic", "--chain", "business", "--type-id",
                     "0x0310", "--payload", payload.hex()])


def main():
    t = Tap()
    tmp = scratch_dir("leben-knpjs-")
    node = Node(demo=True)
    try:
        node.start()
        canon = run_cli(["contract", "print", SMALL, "--to", "json"]).stdout.encode()
        want = h("LEBEN-contract-proformajs-v1", canon)
        rep = run_cli(["contract", "check", SMALL, "--rules", "proformajs", "--json"]).stdout
        t.ok(json.loads(rep).get("ok") is True, "the protocol passes the PROformajs verifier")
        n0 = nonce(node, "clinic")
        lrep = run_cli(["contract", "check", SMALL, "--rules", "leben", "--json"]).stdout.encode()
        bad = v2(canon, lrep, want)
        r = raw(node, bad)
        t.ok(r.returncode == 1 and "report hash" in r.stderr and "LB_EINVALID" in r.stderr,
             "a version-2 payload with another report hash is refused", r.stderr)
        t.eq(nonce(node, "clinic"), n0, "the refused tx used no nonce")
        r = node.cli(["contract", "publish", SMALL, "--key", "clinic", "--json"])
        t.eq(r.returncode, 0, "publish a PROformajs protocol " + r.stderr)
        pub = json.loads(r.stdout) if r.returncode == 0 else {}
        t.eq((pub.get("contract"), pub.get("rules")), (want, "proformajs"),
             "contract hash = BLAKE2b(PROformajs domain, canonical JSON), rules proformajs")
        t.eq(pub.get("report_hash"), h("LEBEN-contract-report-v1", rep.encode()),
             "report hash = the PROformajs verifier's report")
        st, c = node.get("/v1/contracts/" + want)
        t.eq(st, 200, "GET /v1/contracts/HASH")
        t.eq(c.get("source", "").encode(), canon, "the chain keeps the JSON form")
        t.eq((c.get("rules"), c.get("name")), ("proformajs", "p"), "the record says proformajs")
        st, tx = node.get("/v1/txs/" + pub.get("tx", ""))
        t.eq(st, 200, "the publication tx is readable")

        # ---- a run under the PROformajs rules, anchored: hashes only on the chain ----
        ops = [{"op": "set", "path": "p", "data": {"n": 3, "t": "b"}},
               {"op": "complete", "path": "p:e"}, {"op": "confirm", "path": "p:dec:yes"},
               {"op": "confirm", "path": "p:dec:no"}, {"op": "complete", "path": "p:dec"},
               {"op": "complete", "path": "p"}]
        of, rec = os.path.join(tmp, "ops.json"), os.path.join(tmp, "record.json")
        with open(of, "w") as f:
            json.dump(ops, f)
        r = node.cli(["contract", "run", SMALL, "--answers", of, "--anchor", "--key", "clinic",
                      "--anchor-record", rec])
        t.eq(r.returncode, 0, "contract run --anchor under the PROformajs rules " + r.stderr)
        record = json.load(open(rec)) if os.path.exists(rec) else {}
        st, d = node.get("/v1/sessions/" + record.get("session", "0" * 64))
        evs = d.get("events", []) if st == 200 else []
        t.eq([e.get("event") for e in evs],
             ["start", "answer", "answer", "decision", "complete"],
             "its events: start, the two answers, the decision, completion")
        t.eq((d.get("status"), d.get("contract"), d.get("owner")),
             ("complete", want, node.address("clinic")),
             "the session is complete, of the contract published in its JSON form")
        salt = bytes.fromhex(record.get("salt", "00"))
        t.eq([e.get("answer_hash") for e in evs if e.get("event") == "answer"],
             [h("LEBEN-contract-answer-v1", salt + k.encode() + b"\0" +
                json.dumps(v, separators=(",", ":")).encode())
              for k, v in ops[0]["data"].items()],
             "each answer's hash is recomputed from the answers given and the salt kept locally")
        t.eq([(e.get("decision"), e.get("candidates")) for e in evs
              if e.get("event") == "decision"], [("dec", ["no", "yes"])],
             "the decision names the two candidates confirmed (PROformajs confirms any number)")
        trace = record.get("trace", "")
        t.eq(d.get("trace_hash"), h("LEBEN-contract-trace-v1", trace.encode()),
             "the completion hash is the hash of the operations kept in the record")
        t.eq([{k: v for k, v in o.items() if k != "error"} for o in json.loads(trace or "[]")],
             ops, "the record's trace is the run's operations")
        # whoever holds the record replays the operations in PROformajs itself
        lib = os.path.join(ROOT, "tests", "oracles", "proforma_lib.mjs")
        js = ("import {runOracle} from %s; import {readFileSync} from 'fs';"
              "const p = JSON.parse(readFileSync(%s)); const ops = JSON.parse(readFileSync(0));"
              "const r = runOracle(p, {ops}); const l = r.trace[r.trace.length - 1];"
              "console.log(JSON.stringify({finished: l.finished, data: l.data,"
              " errors: r.trace.filter((x) => x.error).length}));") % (
                  json.dumps("file://" + lib), json.dumps(SMALL))
        r = subprocess.run(["node", "--input-type=module", "-e", js], input=trace,
                           capture_output=True, text=True, cwd=os.path.dirname(lib))
        rep_ = json.loads(r.stdout) if r.returncode == 0 and r.stdout else {}
        t.eq(rep_, {"finished": True, "data": {"n": 3, "t": "b", "d": 6}, "errors": 0},
             "the record's operations replayed in PROformajs finish with the same data "
             + r.stderr[-300:])
        blob = json.dumps(d)
        t.ok("value_json" not in blob and '"t"' not in blob and record.get("salt", "x") not in blob,
             "no answer, data name or salt on the chain", blob[:300])
        # a run saved offline (run --save, no node), anchored afterwards: the same events
        sf, rec2 = os.path.join(tmp, "saved.json"), os.path.join(tmp, "record2.json")
        r = run_cli(["contract", "run", SMALL, "--answers", of, "--save", sf])
        t.eq(r.returncode, 0, "the run saved offline under the PROformajs rules " + r.stderr)
        r = node.cli(["contract", "anchor", sf, "--key", "clinic"])
        t.ok(r.returncode == 2 and "--contract" in r.stderr,
             "anchoring a PROformajs-rules session asks for its contract", r.stderr)
        r = node.cli(["contract", "anchor", sf, "--contract", BIG, "--key", "clinic"])
        t.ok(r.returncode == 1 and "not of" in r.stderr,
             "a session of another contract is refused", r.stderr)
        r = node.cli(["contract", "anchor", sf, "--contract", SMALL, "--key", "clinic",
                      "--anchor-record", rec2])
        t.eq(r.returncode, 0, "contract anchor of a session saved under the PROformajs rules "
             + r.stderr)
        record2 = json.load(open(rec2)) if os.path.exists(rec2) else {}
        st, d2 = node.get("/v1/sessions/" + record2.get("session", "0" * 64))
        evs2 = d2.get("events", []) if st == 200 else []
        t.eq(([e.get("event") for e in evs2], d2.get("status"), d2.get("contract")),
             (["start", "answer", "answer", "decision", "complete"], "complete", want),
             "its events are those of run --anchor, complete, of the published contract")
        t.eq(d2.get("trace_hash"), d.get("trace_hash"),
             "the same operations: the same trace hash as the anchored run")
        r = node.cli(["contract", "run", BIG, "--answers", of, "--anchor", "--key", "clinic"])
        t.ok(r.returncode == 1 and "not published" in r.stderr,
             "a run of an unpublished PROformajs contract cannot be anchored", r.stderr)
        st, ss = node.get("/v1/sessions")
        t.eq(ss.get("total"), 2, "two sessions on the chain")

        # ---- more attacks past the CLI ----
        n0 = nonce(node, "clinic")
        spaced = canon.replace(b"{", b"{ ", 1)
        bad = v2(spaced, rep.encode())
        r = raw(node, bad)
        t.ok(r.returncode == 1 and "canonical" in r.stderr,
             "a version-2 source not in canonical JSON form is refused", r.stderr)
        bsrc = run_cli(["contract", "print", BIG, "--to", "json"]).stdout.encode()
        brep = run_cli(["contract", "check", BIG, "--rules", "proformajs", "--json"]).stdout
        bad = v2(bsrc, brep.encode())
        r = raw(node, bad)
        t.ok(r.returncode == 1 and "verifier found" in r.stderr,
             "a protocol the PROformajs verifier does not pass is refused", r.stderr)
        r = raw(node, b"\x04" + bad[1:])
        t.ok(r.returncode == 1 and "LB_EMALFORMED" in r.stderr, "an unknown version is refused",
             r.stderr)
        # version 3 names the exploration bound: outside 1 .. 200000 it is malformed, and a
        # bound other than the one the report was made with gives another report
        for bound in (0, 200001):
            r = raw(node, v3(bsrc, brep.encode(), bound))
            t.ok(r.returncode == 1 and "exploration bound" in r.stderr,
                 "a version-3 bound of %d states is refused" % bound, r.stderr)
        xsrc = run_cli(["contract", "print", EXAMPLE, "--to", "json"]).stdout.encode()
        xrep = run_cli(["contract", "check", EXAMPLE, "--max-states", "2000", "--json"]).stdout
        r = raw(node, v3(xsrc, xrep.encode(), 1000))
        t.ok(r.returncode == 1 and "verifier found" in r.stderr,
             "a version-3 publication whose bound is too small for its exploration is refused",
             r.stderr)
        r = raw(node, v3(xsrc, xrep.encode(), 4000))
        t.ok(r.returncode == 1 and "report hash" in r.stderr,
             "a version-3 publication naming another bound than its report's is refused",
             r.stderr)
        st, lst = node.get("/v1/contracts")
        t.eq(lst.get("total"), 1, "no contract added by the refusals")
        t.eq(nonce(node, "clinic"), n0, "the refused txs used no nonce")

        # ---- an example JSON contract whose exploration needs more than 1000 states ----
        r = node.cli(["contract", "publish", EXAMPLE, "--key", "clinic", "--json"])
        t.eq(r.returncode, 0, "publish examples/contracts/colectomy_pathway.json " + r.stderr)
        xp = json.loads(r.stdout) if r.returncode == 0 else {}
        t.eq(xp.get("max_states"), 2000, "the CLI doubled the bound until the exploration "
             "completed (1356 states: 2000)")
        t.eq(xp.get("report_hash"), h("LEBEN-contract-report-v1", xrep.encode()),
             "its report is the verifier's within 2000 states")
        st, tx = node.get("/v1/txs/" + xp.get("tx", ""))
        t.eq((tx.get("payload") or {}).get("max_states"), 2000,
             "the publication tx names the bound 2000 (payload version 3)")

        # ---- a contract that needs exploration version 2 (a bound above 20000): value
        # classes, 200 operations deep; every node re-runs it (and leben verify below) ----
        r = node.cli(["contract", "publish", RISK, "--key", "clinic", "--max-states", "40000",
                      "--json"])
        t.eq(r.returncode, 0, "publish examples/contracts/chronic_risk.json within 40000 "
             "states (more than 400000 states with every value) " + r.stderr)
        rp = json.loads(r.stdout) if r.returncode == 0 else {}
        rrep = run_cli(["contract", "check", RISK, "--max-states", "40000", "--json"]).stdout
        t.eq(rp.get("report_hash"), h("LEBEN-contract-report-v1", rrep.encode()),
             "its report is the version-2 verifier's within 40000 states")
        rj = json.loads(rrep)
        t.ok(rj.get("ok") and rj.get("complete") and
             (rj.get("bounds") or {}).get("values") == "classes",
             "the report says the exploration completed by value classes", rrep[:300])
        st, lst = node.get("/v1/contracts")
        t.eq(lst.get("total"), 3, "the node applied it: three contracts published")
        n0 = nonce(node, "clinic")
        r = node.cli(["contract", "publish", BIG, "--key", "clinic", "--max-states", "1000"])
        t.ok(r.returncode == 1 and "stopped at 1000 states" in r.stderr and
             "contract publish raises it by itself" in r.stderr,
             "a bound given too small: not published, the message says how to raise it",
             r.stderr)

        # ---- the same protocol under LEBEN's rules (version 1): their verifier decides ----
        r = node.cli(["contract", "publish", SMALL, "--key", "clinic", "--rules", "leben"])
        t.ok(r.returncode == 1 and "ambiguity" in r.stderr,
             "--rules leben verifies with LEBEN's rules, which find an ambiguity here", r.stderr)
        t.eq(nonce(node, "clinic"), n0, "nothing sent")
    finally:
        node.stop()
    r = run_cli(["verify", "--home", node.home])
    t.eq(r.returncode, 0, "leben verify replays the chains, re-verifying the PROformajs "
         "publication " + r.stderr[-300:])
    node.cleanup()
    t.done()


if __name__ == "__main__":
    main()
