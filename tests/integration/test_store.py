#!/usr/bin/env python3
"""The knowledge store through a real node and the CLI: contracts published and listed with
prices, codes and a family; each refusal (listing or price change by a non-author, a call
without enough in the wallet, a rating by a non-buyer and a second rating, a derivation
cycle, a failing template instance) is refused with its own error and changes nothing; a paid
call lands in the author's and the ancestor's wallets with the amounts of the contract-call
split table computed here; outcomes are hidden below the minimum; search finds a listing
through a typo; a template instance is verified, published and listed; `leben verify` replays
the chains afterwards."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hashlib

from lebentest import (ROOT, Node, Tap, address_of, bech32m_encode, run_cli,  # noqa: E402
                       scratch_dir, uvarint)

EX = os.path.join(ROOT, "examples", "contracts")
TMPL = os.path.join(ROOT, "tests", "data", "store", "hypertension.tmpl")


def wallet(node, key):
    st, w = node.get("/v1/store/wallets/" + node.address(key))
    return w.get("wallet") if st == 200 else None


def listings(node):
    st, j = node.get("/v1/store/listings?limit=1000")
    return json.dumps(j, sort_keys=True)


def main():
    t = Tap()
    tmp = scratch_dir("leben-store-")
    node = Node(demo=True)
    try:
        gpath = os.path.join(node.home, "genesis.json")
        with open(gpath) as f:
            g = json.load(f)
        g["store_wallets"] = [{"address": node.address("bob"), "asc": 50000000},
                              {"address": node.address("alice"), "asc": 100000}]
        g["market"] = {"platform": address_of(b"\x11" * 32), "period_blocks": 1000,
                       "top_k": 2, "quota": {"csc_per_asc": 10, "periods": 2}}
        with open(gpath, "w") as f:
            json.dump(g, f)
        node.start()
        t.eq(wallet(node, "bob"), 50000000, "genesis fills the store wallet")
        r = node.cli(["store", "wallet", "bob"])
        t.eq(r.stdout.strip(), "%s: 50 ASC in the store wallet" % node.address("bob"),
             "leben store wallet prints ASC")
        r, j = node.cli_json(["store", "wallet", "bob"])
        t.eq((j or {}).get("wallet"), 50000000, "--json keeps micro-ASC, as the API")

        def publish(path, key):
            r, j = node.cli_json(["contract", "publish", path, "--key", key])
            t.eq(r.returncode, 0, "publish %s" % os.path.basename(path))
            return (j or {}).get("contract")

        hyp = publish(os.path.join(EX, "hypertension.pf"), "clinic")
        chest = publish(os.path.join(EX, "chest_pain.pf"), "alice")

        # ---- listing ----
        add_hyp = ["store", "add", hyp, "--title", "Hypertension diagnosis and follow-up",
                   "--specialty", "cardiology", "--price-call", "1", "--price-licence", "20",
                   "--codes", "icd10|I10,snomed|38341003",
                   "--description", "Clinic and ambulatory blood pressure, treatment reviews"]
        before = listings(node)
        r = node.cli(add_hyp + ["--from", "bob"])
        t.ok(r.returncode == 1 and "only its author may list it" in r.stderr
             and "LB_EUNAUTH" in r.stderr, "a non-author may not list", r.stderr)
        r = node.cli(add_hyp[:-2] + ["--codes", "snomed|38341004", "--from", "clinic"])
        t.ok(r.returncode == 1 and "check digit" in r.stderr, "a bad SNOMED code is refused",
             r.stderr)
        fixture = os.path.join(ROOT, "tests", "data", "coding", "icd10cm_order_fixture.txt")
        r = node.cli(["store", "add", hyp, "--title", "x", "--price-call", "1", "--codes",
                      "icd10cm|I10,icd10cm|I11.9", "--icd10", fixture, "--from", "clinic"])
        t.ok(r.returncode == 1 and "I11.9 is not in the loaded code table" in r.stderr,
             "a code missing from the given ICD-10-CM table is refused", r.stderr)
        t.eq(listings(node), before, "refused listings changed nothing")
        r = node.cli(add_hyp + ["--from", "clinic"])
        t.eq(r.returncode, 0, "the author lists the contract " + r.stderr)
        r = node.cli(["store", "add", chest, "--title", "Chest pain assessment",
                      "--specialty", "cardiology", "--price-call", "3", "--codes", "icd10|R07.4",
                      "--description", "Acute chest pain, ECG and troponin, same-day referral",
                      "--parent", hyp, "--relation", "extend", "--from", "alice"])
        t.eq(r.returncode, 0, "a derived contract is listed with its parent " + r.stderr)

        # ---- refusals, nothing changed ----
        before = listings(node)
        w_before = (wallet(node, "bob"), wallet(node, "alice"), wallet(node, "clinic"))
        r = node.cli(["store", "price", hyp, "--price-call", "0.5", "--from", "bob"])
        t.ok(r.returncode == 1 and "only the author" in r.stderr, "price change by a non-author",
             r.stderr)
        r = node.cli(["store", "call", chest, "--from", "alice"])
        t.ok(r.returncode == 1 and "LB_EFUNDS" in r.stderr and "holds 100000" in r.stderr,
             "a call without enough in the wallet", r.stderr)
        r = node.cli(["store", "rate", chest, "5", "great", "--from", "alice"])
        t.ok(r.returncode == 1 and "only verified buyers rate" in r.stderr,
             "a rating by a non-buyer", r.stderr)
        r = node.cli(["store", "derive", hyp, "--parent", chest, "--relation", "fork",
                      "--from", "clinic"])
        t.ok(r.returncode == 1 and "derivation cycle" in r.stderr, "a derivation cycle", r.stderr)
        t.eq(listings(node), before, "the refusals changed no listing")
        t.eq((wallet(node, "bob"), wallet(node, "alice"), wallet(node, "clinic")), w_before,
             "the refusals changed no wallet")

        # ---- a paid call: contract-call table, computed here ----
        price = 3000000
        author, ancestors = price * 600000 // 1000000, price * 150000 // 1000000
        r, j = node.cli_json(["store", "call", chest, "--from", "bob"])
        t.eq(r.returncode, 0, "bob pays a call " + r.stderr)
        call_id = (j or {}).get("id")
        t.eq(wallet(node, "bob"), 50000000 - price, "the price left bob's wallet")
        t.eq(wallet(node, "alice"), 100000 + author, "the author got 60 %")
        t.eq(wallet(node, "clinic"), ancestors, "the ancestor's author got 15 %")

        # ---- a call paid in ASC on the settlement chain, cited by the store ----
        def asc(key):
            return (node.account(key).get("balances") or {}).get("asc", 0)

        a0 = {k: asc(k) for k in ("bob", "alice", "clinic")}
        w_bob = wallet(node, "bob")
        r = node.cli(["store", "call", chest, "--settle", "--from", "bob"])
        t.eq(r.returncode, 0, "a call paid by market.pay and cited " + r.stderr)
        pay_id = r.stdout.split("market.pay ")[1].split(")")[0] if "market.pay " in r.stdout else ""
        t.eq(wallet(node, "bob"), w_bob, "the store wallet is untouched by a settled call")
        t.eq(asc("alice") - a0["alice"], author, "the author got 60 % in ASC")
        t.eq(asc("clinic") - a0["clinic"], ancestors, "the ancestor's author got 15 % in ASC")
        t.ok(a0["bob"] - asc("bob") >= price, "bob paid the price in ASC (and the fee)")
        st, one = node.get("/v1/store/listings/" + chest)
        t.eq(one.get("calls"), 2, "the settled call is counted")
        # the same payment cited again, and cited by someone else: refused, nothing changed
        st, pr = node.get("/v1/txs/%s/proof?anchor=business" % pay_id)
        t.eq(st, 200, "the payment's proof anchored in the business chain")
        ptx, proof = bytes.fromhex(pr.get("tx", "")), bytes.fromhex(pr.get("proof", ""))
        payload = (b"\x01" + bytes.fromhex(chest) + uvarint(price) + b"\0" * 32 +
                   uvarint(len(ptx)) + ptx + uvarint(len(proof)) + proof)
        before = listings(node)
        r = node.cli(["tx", "raw", "--from", "bob", "--chain", "business", "--type-id", "0x0373",
                      "--payload", payload.hex()])
        t.ok(r.returncode == 1 and "already cited" in r.stderr, "a payment cited twice", r.stderr)
        r = node.cli(["tx", "raw", "--from", "alice", "--chain", "business", "--type-id",
                      "0x0373", "--payload", payload.hex()])
        t.ok(r.returncode == 1 and "cite your own" in r.stderr, "someone else's payment",
             r.stderr)
        t.eq(listings(node), before, "the refused citations changed nothing")

        # ---- a paid call that runs the contract and anchors its session ----
        af = os.path.join(tmp, "answers.json")
        with open(af, "w") as f:
            json.dump({"pain_now": True, "ecg": "st_elevation"}, f)
        r = node.cli(["store", "call", chest, "--from", "bob", "--run", "--", "--answers", af,
                      "--json", "--anchor", "--key", "bob"])
        t.ok(r.returncode == 0 and "call_ambulance" in r.stdout,
             "call --run pays, then runs the contract to its actions", r.stderr)
        st, ss = node.get("/v1/sessions?contract=" + chest)
        t.eq(ss.get("total"), 1, "the run's session is anchored on the chain")
        run_call = r.stdout.split("call id ")[1].split(";")[0] if "call id " in r.stdout else ""
        sess = (ss.get("sessions") or [{}])[0].get("id", "")
        r = node.cli(["store", "outcome", run_call, "resolved", "--session", "ab" * 32,
                      "--from", "bob"])
        t.ok(r.returncode == 1 and "is not anchored" in r.stderr,
             "an outcome naming a session that was never anchored", r.stderr)
        r = node.cli(["store", "outcome", run_call, "referral-confirmed", "--session", sess,
                      "--from", "bob"])
        t.eq(r.returncode, 0, "the outcome is linked to the run's session " + r.stderr)

        # ---- ASC from the settlement chain into a store wallet ----
        deposit_addr = bech32m_encode(
            "lb", hashlib.blake2b(b"LEBEN-store-deposit-v1", digest_size=32).digest()[:20])
        a_asc, a_w = asc("alice"), wallet(node, "alice")
        r = node.cli(["store", "deposit", "2", "--from", "alice"])
        t.eq(r.returncode, 0, "alice deposits 2 ASC into her store wallet " + r.stderr)
        t.eq((a_asc - asc("alice"), wallet(node, "alice") - a_w), (2000000, 2000000),
             "2 ASC left her settlement balance and arrived in her wallet")
        st, acct = node.get("/v1/accounts/" + deposit_addr)
        t.eq((acct.get("balances") or {}).get("asc"), 2000000,
             "the ASC stays at the store deposit address")
        dep_id = r.stdout.split("(transfer ")[1].split(")")[0] if "(transfer " in r.stdout else ""
        st, pr = node.get("/v1/txs/%s/proof?anchor=business" % dep_id)
        dtx, dproof = bytes.fromhex(pr.get("tx", "")), bytes.fromhex(pr.get("proof", ""))

        def deposit_payload(amount, tx, proof):
            return (b"\x01" + b"\0" * 32 + uvarint(amount) + uvarint(len(tx)) + tx +
                    uvarint(len(proof)) + proof).hex()

        w_before = (wallet(node, "alice"), wallet(node, "bob"))
        r = node.cli(["tx", "raw", "--from", "alice", "--chain", "business", "--type-id",
                      "0x0378", "--payload", deposit_payload(2000000, dtx, dproof)])
        t.ok(r.returncode == 1 and "already deposited" in r.stderr, "a transfer deposited twice",
             r.stderr)
        r = node.cli(["tx", "raw", "--from", "bob", "--chain", "business", "--type-id",
                      "0x0378", "--payload", deposit_payload(2000000, dtx, dproof)])
        t.ok(r.returncode == 1 and "deposit your own" in r.stderr, "someone else's transfer",
             r.stderr)
        r, tj = node.cli_json(["tx", "transfer", "--from", "alice", "--to", deposit_addr,
                               "--amount", "1", "--memo", "hello", "--wait"])
        oid = (tj or {}).get("id") or (tj or {}).get("tx") or ""
        st, pr = node.get("/v1/txs/%s/proof?anchor=business" % oid)
        r = node.cli(["tx", "raw", "--from", "alice", "--chain", "business", "--type-id",
                      "0x0378", "--payload",
                      deposit_payload(1000000, bytes.fromhex(pr.get("tx", "")),
                                      bytes.fromhex(pr.get("proof", "")))])
        t.ok(r.returncode == 1 and "with memo 'store deposit'" in r.stderr,
             "a transfer that is not a deposit", r.stderr)
        t.eq((wallet(node, "alice"), wallet(node, "bob")), w_before,
             "the refused deposits changed no wallet")

        # ---- a store wallet paid out to the owner's settlement account ----
        def dep_asc():
            return (node.get("/v1/accounts/" + deposit_addr)[1].get("balances") or {}).get("asc", 0)
        run_cli(["keys", "new", "stranger", "--home", node.home])
        w0, d0 = (wallet(node, "alice"), wallet(node, "bob")), dep_asc()
        r = node.cli(["store", "withdraw", "1", "--from", "stranger"])
        t.ok(r.returncode == 1 and "only your own wallet" in r.stderr,
             "a stranger cannot withdraw (its own wallet is empty)", r.stderr)
        r = node.cli(["store", "withdraw", "40", "--from", "bob"])
        t.ok(r.returncode == 1 and "backed by deposits" in r.stderr,
             "genesis credit beyond the deposits is not paid out", r.stderr)
        r = node.cli(["store", "withdraw", "0", "--from", "alice"])
        t.ok(r.returncode != 0 and "AMOUNT" in r.stderr, "a zero withdrawal refused", r.stderr)
        t.eq(((wallet(node, "alice"), wallet(node, "bob")), dep_asc()), (w0, d0),
             "the refused withdrawals changed nothing")
        a0 = asc("alice")
        r, wj = node.cli_json(["store", "withdraw", "1.5", "--from", "alice"])
        t.ok(r.returncode == 0 and wj, "alice withdraws 1.5 ASC from her wallet", r.stderr)
        wid = (wj or {}).get("id") or (wj or {}).get("tx") or ""
        t.eq(wallet(node, "alice"), w0[0] - 1500000, "her wallet fell by 1.5 ASC")
        for _ in range(60):  # the node pays it out once a settlement block anchors it
            if asc("alice") != a0:
                break
            node.cli(["tx", "transfer", "--from", "bob", "--to", "clinic", "--amount",
                      "0.000001", "--wait"])
        t.eq(asc("alice") - a0, 1500000, "the node paid 1.5 ASC to alice's settlement account")
        t.eq(d0 - dep_asc(), 1500000, "from the store deposit address")
        st, pr = node.get("/v1/txs/%s/proof?anchor=settlement" % wid)
        wtx, wproof = bytes.fromhex(pr.get("tx", "")), bytes.fromhex(pr.get("proof", ""))
        r = node.cli(["tx", "raw", "--from", "clinic", "--chain", "settlement", "--type-id",
                      "0x0129", "--payload", (uvarint(len(wtx)) + wtx + uvarint(len(wproof)) +
                                              wproof).hex(), "--wait"])
        t.ok(r.returncode == 1 and "already paid out" in r.stderr,
             "a second payout of the withdrawal refused", r.stdout + r.stderr)
        t.eq(asc("alice") - a0, 1500000, "alice was paid once")

        # ---- ratings ----
        r = node.cli(["store", "rate", chest, "4", "clear and quick", "--from", "bob"])
        t.eq(r.returncode, 0, "a verified buyer rates " + r.stderr)
        rate_id = r.stdout.rsplit("(tx ", 1)[-1].split(")")[0] if "(tx " in r.stdout else ""
        # the node cites the rating in the rankings by itself (market.cite with the listing's
        # store.list) once a settlement block anchors it
        for _ in range(40):
            if node.get("/v1/market/cited/" + rate_id)[0] == 200:
                break
            node.cli(["tx", "transfer", "--from", "bob", "--to", "clinic", "--amount",
                      "0.000001", "--wait"])
        t.eq(node.get("/v1/market/cited/" + rate_id)[0], 200,
             "the node cited the rating for the rankings by itself")
        r = node.cli(["store", "rate", chest, "5", "again", "--from", "bob"])
        t.ok(r.returncode == 1 and "already rated" in r.stderr, "a second rating", r.stderr)

        # ---- outcome ----
        r = node.cli(["store", "outcome", call_id or "", "referral-confirmed", "--from", "bob"])
        t.eq(r.returncode, 0, "the caller records the outcome " + r.stderr)
        st, one = node.get("/v1/store/listings/" + chest)
        t.eq((one.get("calls"), one.get("ratings"), one.get("rating")), (3, 1, 4.0),
             "calls and ratings counted")
        t.ok(one.get("outcomes", {}).get("recorded") is None,
             "outcome statistics hidden below the minimum", one.get("outcomes"))
        t.eq(one.get("outcomes", {}).get("minimum"), 10, "the minimum is shown")
        st, rt = node.get("/v1/store/listings/%s/ratings?offset=0&limit=5" % chest)
        t.eq((st, rt.get("total"), [(x["stars"], x["text"]) for x in rt.get("ratings", [])]),
             (200, 1, [(4, "clear and quick")]), "the ratings, paged")

        # ---- browsing, family, search ----
        st, page = node.get("/v1/store/listings?sort=calls&limit=1")
        t.eq((page.get("total"), page["listings"][0]["id"]), (2, chest),
             "sort by calls, paginated")
        st, page = node.get("/v1/store/listings?sort=price&offset=1&limit=1")
        t.eq(page["listings"][0]["id"], chest, "sort by price (cheapest first), second page")
        r, mine = node.cli_json(["store", "list", "--author", "alice"])
        t.eq([x["id"] for x in (mine or {}).get("listings", [])], [chest],
             "listings of one author")
        st, j = node.get("/v1/store/listings?author=nobody")
        t.eq(st, 400, "a bad author filter is refused")
        r, fam = node.cli_json(["store", "family", chest])
        t.ok(fam and fam["root"] == hyp and fam["tree"]["children"][0]["id"] == chest,
             "the family tree from its root", fam)
        r, s = node.cli_json(["store", "search", "chset pian"])
        t.ok(s and s["results"] and s["results"][0]["id"] == chest,
             "search finds the listing through typos", s)
        r, s = node.cli_json(["store", "search", "high blood pressure"])
        t.ok(s and s["results"] and s["results"][0]["id"] == hyp,
             "search finds the listing through a synonym", s)
        r = node.cli(["store", "price", hyp, "--price-call", "2", "--price-licence", "20",
                      "--from", "clinic"])
        t.eq(r.returncode, 0, "the author changes the price " + r.stderr)
        st, s = node.get("/v1/store/search?q=hypertension")
        t.eq([(x["id"], x["price_call"]) for x in s.get("results", [])], [(hyp, 2000000)],
             "search answers with the listing as it is now (the new price)")

        rf2 = os.path.join(ROOT, "tests", "data", "coding", "rf2")
        r, s = node.cli_json(["store", "search", "HBP", "--snomed",
                              os.path.join(rf2, "sct2_Concept_Snapshot_Fixture.txt"),
                              "--snomed-desc",
                              os.path.join(rf2, "sct2_Description_Snapshot-en_Fixture.txt")])
        t.ok(s and [x["id"] for x in s["results"]] == [hyp],
             "search with SNOMED CT tables finds a listing by its code's description", s)

        # ---- template ----
        r = node.cli(["store", "template", "add", TMPL, "--title", "Hypertension, target systolic",
                      "--from", "clinic"])
        t.eq(r.returncode, 0, "a template is registered " + r.stderr)
        tid = r.stdout.split()[1] if r.returncode == 0 else ""
        out = os.path.join(tmp, "inst.pf")
        r, inst = node.cli_json(["store", "template", "instantiate", tid, "--params",
                                 '{"target": 150}', "--out", out])
        t.eq(r.returncode, 0, "an instance is filled and verified " + r.stderr)
        ihash = publish(out, "clinic")
        t.eq(ihash, (inst or {}).get("contract"), "the published instance is the verified one")
        r = node.cli(["store", "add", ihash or "", "--title", "Hypertension to 150",
                      "--price-call", "0.5", "--template", tid, "--params", '{"target": 150}',
                      "--from", "clinic"])
        t.eq(r.returncode, 0, "the instance is listed pointing back to its template " + r.stderr)
        st, tj = node.get("/v1/store/templates/" + tid)
        t.eq(tj.get("instances"), [ihash], "the template lists its instance")
        with open(TMPL) as f:
            t.eq(tj.get("source"), f.read(), "and shows its source")
        r = node.cli(["store", "template", "instantiate", tid, "--params", '{"target": 400}',
                      "--out", os.path.join(tmp, "bad.pf")])
        t.ok(r.returncode == 1 and "fails verification" in r.stderr,
             "a failing instance is refused with the verifier's finding", r.stderr)
        t.ok(not os.path.exists(os.path.join(tmp, "bad.pf")), "and nothing is written")

        # ---- the citing thread's cursor across restarts ----
        cur = os.path.join(node.home, "data", "market.cursor")

        def cursor():
            try:
                with open(cur) as f:
                    w = f.read().split()
                return int(w[1]), int(w[3])
            except (OSError, IndexError, ValueError):
                return None

        def cited_soon(tx_id):
            for _ in range(40):
                if node.get("/v1/market/cited/" + tx_id)[0] == 200:
                    return True
                node.cli(["tx", "transfer", "--from", "bob", "--to", "clinic", "--amount",
                          "0.000001", "--wait"])
            return False

        node.stop()
        before = cursor()
        t.ok(before and before[0] > 1, "the node kept where its citing had read to", before)
        node.start()
        r = node.cli(["store", "call", ihash or "", "--from", "bob"])
        t.eq(r.returncode, 0, "bob calls the instance after the restart " + r.stderr)
        r = node.cli(["store", "rate", ihash or "", "3", "fine", "--from", "bob"])
        t.eq(r.returncode, 0, "and rates it " + r.stderr)
        rid = r.stdout.rsplit("(tx ", 1)[-1].split(")")[0] if "(tx " in r.stdout else ""
        t.ok(cited_soon(rid), "a rating of a listing read before the restart is cited")
        t.ok(not any("from block 1" in x for x in node.log),
             "the restarted node went on from its cursor", node.log[-5:])
        after = cursor()
        t.ok(after and after[0] > before[0], "the cursor moved on", (before, after))
        node.stop()
        with open(cur, "w") as f:  # a cursor past the chain (the chain was replaced)
            f.write("business 999999 directory 999999\n")
        node.start()
        for _ in range(3):  # a few settlement blocks
            node.cli(["tx", "transfer", "--from", "bob", "--to", "clinic", "--amount",
                      "0.000001", "--wait"])
        t.ok(any("past the business chain" in x for x in node.log),
             "a cursor past the chain starts over", node.log[-5:])
        t.ok(cursor() and cursor()[0] <= after[0] + 40, "and is written back within the chain",
             cursor())

        node.stop()
        r = run_cli(["verify", "--home", node.home])
        t.eq(r.returncode, 0, "leben verify replays every block after the store txs " + r.stderr)
    finally:
        node.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
