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
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import ROOT, Node, Tap, run_cli, uvarint  # noqa: E402

SMALL = os.path.join(ROOT, "tests", "data", "knowledge_json", "valid", "small.json")
BIG = os.path.join(ROOT, "examples", "contracts", "sepsis.json")


def h(domain, data):
    return hashlib.blake2b(domain.encode() + b"\0" + data, digest_size=32).hexdigest()


def nonce(node, key):
    return node.account(key)["chains"]["business"]["next_nonce"]


def v2(src, report, src_hash=None):
    """A version-2 contract.publish payload: source, its hash (computed unless given), the
    hash of the report bytes."""
    return (b"\x02" + bytes.fromhex(src_hash or h("LEBEN-contract-proformajs-v1", src)) +
            bytes.fromhex(h("LEBEN-contract-report-v1", report)) + uvarint(len(src)) + src)


def raw(node, payload):
    return node.cli(["tx", "raw", "--from", "clinic", "--chain", "business", "--type-id",
                     "0x0310", "--payload", payload.hex()])


def main():
    t = Tap()
    tmp = tempfile.mkdtemp(prefix="leben-knpjs-")
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

        r = node.cli(["contract", "run", SMALL, "--anchor", "--key", "clinic"])
        t.ok(r.returncode == 2 and "cannot be anchored yet" in r.stderr,
             "a run under the PROformajs rules is not anchored (not supported yet)", r.stderr)
        st, ss = node.get("/v1/sessions")
        t.eq(ss.get("total"), 0, "no session started")

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
        r = raw(node, b"\x03" + bad[1:])
        t.ok(r.returncode == 1 and "LB_EMALFORMED" in r.stderr, "an unknown version is refused",
             r.stderr)
        st, lst = node.get("/v1/contracts")
        t.eq(lst.get("total"), 1, "no contract added by the refusals")
        t.eq(nonce(node, "clinic"), n0, "the refused txs used no nonce")

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
