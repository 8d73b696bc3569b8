#!/usr/bin/env python3
"""Knowledge contracts on the business chain through a real node and the CLI: a corpus
contract is published (its hash recomputed here from the canonical print, its source, author
and version read back through the API); a faulty contract is refused by the CLI's verifier and,
sent raw past the CLI, by the node's own re-verification, changing nothing; a duplicate is
refused; a scripted run is anchored as it goes and listed, the anchored answers' hashes and the
trace hash recomputed here from the local session match the chain; a session run offline and
saved is anchored afterwards from its trace, with the same checks; anchoring a run of an
unpublished contract is refused; `leben verify` replays the chains afterwards."""

import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import ROOT, Node, Tap, run_cli, scratch_dir, uvarint  # noqa: E402

EX = os.path.join(ROOT, "examples", "contracts")


def h(domain, data):
    return hashlib.blake2b(domain.encode() + b"\0" + data, digest_size=32).hexdigest()


def business_nonce(node, key):
    return node.account(key)["chains"]["business"]["next_nonce"]


def main():
    t = Tap()
    tmp = scratch_dir("leben-kn-")
    node = Node(demo=True)
    try:
        node.start()
        sepsis = os.path.join(EX, "sepsis.pf")

        # ---- publish ----
        canon = run_cli(["contract", "print", sepsis]).stdout.encode()
        want_hash = h("LEBEN-contract-v1", canon)
        r = node.cli(["contract", "publish", sepsis, "--key", "clinic", "--json"])
        t.eq(r.returncode, 0, "publish a corpus contract")
        pub = json.loads(r.stdout) if r.returncode == 0 else {}
        t.eq(pub.get("contract"), want_hash, "contract hash = BLAKE2b of the canonical source")
        report = run_cli(["contract", "check", sepsis, "--json"]).stdout.encode()
        t.eq(pub.get("report_hash"), h("LEBEN-contract-report-v1", report),
             "report hash = BLAKE2b of the verifier's report")
        st, c = node.get("/v1/contracts/" + want_hash)
        t.eq(st, 200, "GET /v1/contracts/HASH")
        t.eq(c.get("source", "").encode(), canon, "the chain keeps the canonical source")
        t.eq((c.get("author"), c.get("version"), c.get("name"), c.get("sessions")),
             (node.address("clinic"), 1, "sepsis_screen", 0), "author, version, name, no use yet")
        st, lst = node.get("/v1/contracts")
        t.eq((st, lst.get("total")), (200, 1), "one contract listed")

        # ---- a faulty contract: refused by the CLI, and by the node itself ----
        faulty = os.path.join(EX, "faulty", "deadlock.pf")
        nonce0 = business_nonce(node, "clinic")
        r = node.cli(["contract", "publish", faulty, "--key", "clinic"])
        t.ok(r.returncode == 1 and "not published" in r.stderr and "deadlock" in r.stderr,
             "the CLI refuses a contract the verifier rejects, naming the finding", r.stderr)
        t.eq(business_nonce(node, "clinic"), nonce0, "no tx was sent")
        fsrc = run_cli(["contract", "print", faulty]).stdout.encode()
        frep = run_cli(["contract", "check", faulty, "--json"]).stdout.encode()
        payload = (b"\x01" + bytes.fromhex(h("LEBEN-contract-v1", fsrc)) +
                   bytes.fromhex(h("LEBEN-contract-report-v1", frep)) + uvarint(len(fsrc)) + fsrc)
        r = node.cli(["tx", "raw", "--from", "clinic", "--chain", "business", "--type-id",
                      "0x0310", "--payload", payload.hex()])
        t.ok(r.returncode == 1 and "verifier found" in r.stderr and "LB_EINVALID" in r.stderr,
             "the node re-runs the verifier and refuses the raw publication", r.stderr)
        st, lst = node.get("/v1/contracts")
        t.eq(lst.get("total"), 1, "no contract added by the refusals")
        t.eq(business_nonce(node, "clinic"), nonce0, "the refused tx used no nonce")

        # ---- duplicate ----
        r = node.cli(["contract", "publish", sepsis, "--key", "bob"])
        t.ok(r.returncode == 1 and "already published" in r.stderr and "LB_EEXISTS" in r.stderr,
             "a duplicate publication is refused", r.stderr)
        st, lst = node.get("/v1/contracts")
        t.eq(lst.get("total"), 1, "still one contract")

        # ---- run + anchor ----
        answers = {"suspected_infection": True, "resp_rate": 24, "altered_mentation": False,
                   "sbp": 98}
        af = os.path.join(tmp, "answers.json")
        rec = os.path.join(tmp, "record.json")
        saved = os.path.join(tmp, "session.json")
        with open(af, "w") as f:
            json.dump(answers, f)
        r = node.cli(["contract", "run", sepsis, "--answers", af, "--json", "--anchor", "--key",
                      "alice", "--anchor-record", rec, "--save", saved, "--today", "2024-03-01"])
        t.eq(r.returncode, 0, "run --anchor to the end")
        lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
        commits = [x for x in lines if x.get("event") == "commit"]
        anchored = [x for x in lines if x.get("event") == "anchored"]
        t.eq([a["anchored"] for a in anchored],
             ["start", "answer", "answer", "answer", "answer", "decision", "complete"],
             "start, four answers, the decision and completion anchored in order")
        record = json.load(open(rec)) if os.path.exists(rec) else {}
        session = json.load(open(saved)) if os.path.exists(saved) else {}
        sid = record.get("session", "")

        r = node.cli(["contract", "sessions", "--json"])
        ss = json.loads(r.stdout) if r.returncode == 0 else {}
        t.eq(ss.get("total"), 1, "sessions lists one session")
        s0 = (ss.get("sessions") or [{}])[0]
        t.eq((s0.get("id"), s0.get("status"), s0.get("events"), s0.get("owner"),
              s0.get("contract")), (sid, "complete", 7, node.address("alice"), want_hash),
             "its id, status, event count, owner and contract")
        r = node.cli(["contract", "sessions", "--contract", want_hash, "--json"])
        t.eq(json.loads(r.stdout).get("total") if r.returncode == 0 else None, 1,
             "sessions --contract HASH lists it")
        st, c = node.get("/v1/contracts/" + want_hash)
        t.eq(c.get("sessions"), 1, "the contract's usage count is 1")

        r = node.cli(["contract", "sessions", sid, "--json"])
        detail = json.loads(r.stdout) if r.returncode == 0 else {}
        evs = detail.get("events", [])
        salt = bytes.fromhex(record.get("salt", "00"))
        # answers' hashes recomputed from the answers file and the salt kept locally
        mine = []
        for e in record.get("events", []):
            if e.get("event") == "answer":
                t.eq(json.loads(e["value_json"]), answers[e["data"]],
                     "record: the answer to %s is the one given" % e["data"])
                mine.append(h("LEBEN-contract-answer-v1", salt + e["data"].encode() + b"\0" +
                              e["value_json"].encode()))
        t.eq(sorted(e["data"] for e in record.get("events", []) if e.get("event") == "answer"),
             sorted(answers), "every answer was anchored once")
        t.eq([e.get("answer_hash") for e in evs if e.get("event") == "answer"], mine,
             "the anchored answers' hashes match the local session")
        t.eq([(e.get("decision"), e.get("candidates")) for e in evs if e.get("event") == "decision"],
             [(c.get("task"), c.get("candidates")) for c in commits],
             "the anchored decision is the one the engine committed")
        t.eq([e.get("trace_hash") for e in evs if e.get("event") == "complete"],
             [h("LEBEN-contract-trace-v1", session.get("trace", "").encode())],
             "the anchored trace hash is the hash of the saved session's trace")
        keys, strings = set(), set()

        def walk(v):
            if isinstance(v, dict):
                keys.update(v)
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
            elif isinstance(v, str):
                strings.add(v)
        walk(detail)
        t.ok(not keys & {"value", "value_json", "data", "salt"} and not strings & set(answers),
             "no answer, data name or salt on the chain", json.dumps(detail)[:400])

        # ---- a session run offline, anchored afterwards ----
        off = os.path.join(tmp, "offline.json")
        rec2 = os.path.join(tmp, "record2.json")
        answers2 = {"suspected_infection": True, "resp_rate": 16, "altered_mentation": False,
                    "sbp": 120}
        with open(af, "w") as f:
            json.dump(answers2, f)
        r = run_cli(["contract", "run", sepsis, "--answers", af, "--save", off, "--today",
                     "2024-03-02"])
        t.eq(r.returncode, 0, "an offline run saved")
        r = node.cli(["contract", "anchor", off, "--key", "bob", "--anchor-record", rec2])
        t.eq(r.returncode, 0, "contract anchor SESSION.json anchors it afterwards")
        record2 = json.load(open(rec2)) if os.path.exists(rec2) else {}
        saved2 = json.load(open(off))
        st, d2 = node.get("/v1/sessions/" + record2.get("session", "0" * 64))
        evs2 = d2.get("events", []) if st == 200 else []
        salt2 = bytes.fromhex(record2.get("salt", "00"))
        t.eq([e.get("event") for e in evs2],
             ["start", "answer", "answer", "answer", "answer", "decision", "complete"],
             "its events from the saved trace, in order")
        t.eq(sorted((e["data"], json.loads(e["value_json"])) for e in record2.get("events", [])
                    if e.get("event") == "answer"), sorted(answers2.items()),
             "each answer of the offline run anchored once")
        t.eq([e.get("answer_hash") for e in evs2 if e.get("event") == "answer"],
             [h("LEBEN-contract-answer-v1", salt2 + e["data"].encode() + b"\0" +
                e["value_json"].encode()) for e in record2.get("events", [])
              if e.get("event") == "answer"], "its answers' hashes match")
        t.eq([e.get("candidates") for e in evs2 if e.get("event") == "decision"], [["low"]],
             "the decision of the offline run (low risk)")
        t.eq((d2.get("status"), d2.get("trace_hash"), d2.get("owner")),
             ("complete", h("LEBEN-contract-trace-v1", saved2["trace"].encode()),
              node.address("bob")), "complete, with the hash of the saved trace")
        st, c = node.get("/v1/contracts/" + want_hash)
        t.eq(c.get("sessions"), 2, "the contract's usage count is 2")

        # ---- anchoring a run of an unpublished contract ----
        cp = os.path.join(EX, "chest_pain.pf")
        r = node.cli(["contract", "run", cp, "--answers", af, "--anchor", "--key", "alice"])
        t.ok(r.returncode == 1 and "not published" in r.stderr,
             "a run of an unpublished contract cannot be anchored", r.stderr)
        st, ss = node.get("/v1/sessions")
        t.eq(ss.get("total"), 2, "no session added")
        st, j = node.get("/v1/sessions/" + "00" * 32)
        t.eq(st, 404, "an unknown session id is not found")
        st, j = node.get("/v1/sessions?contract=xyz")
        t.eq(st, 400, "a malformed contract hash is refused")
    finally:
        node.stop()
    r = run_cli(["verify", "--home", node.home])
    t.eq(r.returncode, 0, "leben verify replays every block after the knowledge txs")
    node.cleanup()
    t.done()


if __name__ == "__main__":
    main()
