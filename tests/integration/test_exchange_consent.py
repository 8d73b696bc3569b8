#!/usr/bin/env python3
"""Consent bound to the patient, and no patient identifiers on the chain, attacked through a
real node (issue 11). Every attack first, then what honest parties can still do:

- registration: only the asset's owner registers a patient's consent key, once; a stranger
  cannot register (or re-register) a commitment to its own key, the owner cannot move a
  registered patient to another key (rebinding is the patient's act);
- a stranger cannot give a consent the owner revoked at the patient's request, cannot bind a
  patient's consent to its own key first (the real patient then works), cannot revoke another
  patient's consent; consent for an asset not on offer or for an unregistered commitment is
  refused; the owner cannot record a consent, only a revocation on the patient's behalf;
  rebinding moves the consent to the patient's new key and the old key is refused;
- opt-in: a patient without consent is not used by a run (the exec record and the result's n),
  and the chain refuses an execution that lists such a patient; opt-out (an offer naming its
  legal basis): patients without a record are used, revoked ones are not;
- membership: hashing guessed local ids (with or without the old unsalted pseudonym) matches
  nothing in the exec record, the registrations or the consents;
- a view of a private part (`data show --private`, `data get`) appears in the asset's and the
  patient's history before it is opened.
Each figure is checked against an independent computation here (blake2b, python statistics)."""

import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import (addr_bytes, blake2b256, patient_commitment, run_cli, run_node,  # noqa: E402
                       salt_key, uvarint)

M = 1000000
PARAMS = '{"columns": ["age", "systolic"]}'
CONSENT, PATIENTS, EXEC = 0x0345, 0x0349, 0x0346


def commit(home, asset, local):
    """The commitment of local id `local` under the salt key of asset in home."""
    return patient_commitment(salt_key(home, asset), asset, local)


def exec_payload(request, user, owner, author, executor, patients, data_fee=0, algo_fee=0):
    """xchg.exec payload (docs/wire-format.md), built independently of the C encoder."""
    p = bytes.fromhex(request) + bytes(32)
    p += addr_bytes(user) + bytes.fromhex(request) + addr_bytes(owner) + uvarint(data_fee)
    p += addr_bytes(author) + uvarint(algo_fee) + addr_bytes(executor) + uvarint(0)
    p += bytes([1, 2]) + uvarint(len(patients)) + b"".join(bytes.fromhex(x) for x in sorted(patients))
    return (p + bytes(32)).hex()  # no noise commitment: the offer has no epsilon


def write_table(path, rows):
    with open(path, "w") as f:
        f.write("patient_id,age,systolic\n")
        for r in rows:
            f.write("%s,%d,%d\n" % r)


def raw(node, key, type_id, payload_hex):
    """Sign a business tx of type_id with key and submit it; (HTTP status, JSON)."""
    hexes = node.sign("raw", ["--from", key, "--chain", "business", "--type-id", str(type_id),
                              "--payload", payload_hex])
    return node.post_txs({"tx": hexes[0]})


def main():
    run_node(run, tmp="leben-consent-")


def offer_asset(t, node, tmp, name, rows, extra=()):
    """Publish a table with the data layer and offer it; the node's key may run it."""
    data = os.path.join(tmp, name + ".csv")
    write_table(data, rows)
    r, pub = node.cli_json(["data", "add", data, "--key", "clinic", "--price", "2", "--name", name])
    t.ok(r.returncode == 0 and pub, "%s published (data.register)" % name, r.stderr)
    # any business tx makes a business block that anchors the registration the offer cites
    node.cli(["tx", "record", "--from", "bob", "--kind", "test.tick", "--subject", name, "--wait"])
    r, off = node.cli_json(["exchange", "offer", "--from", "clinic", "--asset-tx", pub["tx"], "--price", "2",
                             "--min-cohort", "5", "--data", data, "--allow", "builtin:stats"] + list(extra))
    t.ok(r.returncode == 0 and off and off["asset"] == pub["asset_id"], "%s offered" % name, r.stdout + r.stderr)
    node.cli(["exchange", "grant", "--from", "clinic", "--asset", off["asset"], "--executor", "node"])
    return data, off["asset"], pub


def register(t, node, tmp, asset, data, keys, what):
    kf = os.path.join(tmp, "keys-%s.csv" % asset[:8])
    with open(kf, "w") as f:
        f.write("local_id,address\n")
        for local, k in keys.items():
            f.write("%s,%s\n" % (local, node.address(k)))
    r, reg = node.cli_json(["exchange", "patients", "--from", "clinic", "--asset", asset, "--data", data,
                             "--keys", kf, "--out", os.path.join(tmp, "cards-" + asset[:8])])
    t.ok(r.returncode == 0 and reg and reg["registered"] == len(keys), what, r.stdout + r.stderr)
    return {p["local_id"]: p["card"] for p in (reg or {}).get("patients", [])}


def run_once(t, node, asset, data, what):
    r, rq = node.cli_json(["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm",
                            "builtin:stats", "--params", PARAMS, "--purpose", what])
    r, esc = node.cli_json(["exchange", "escrow", "--from", "alice", "--request", rq["tx"], "--executor",
                             "node", "--compute-fee", "1"])
    r, res = node.cli_json(["exchange", "run", "--from", "node", "--request", rq["tx"], "--escrow",
                             esc["escrow"], "--data", data])
    t.ok(r.returncode == 0 and res and res["status"] == "delivered", "%s: run delivered" % what,
         r.stdout + r.stderr)
    st, log = node.get("/v1/exchange/log/" + rq["tx"])
    ex = [e["details"] for e in log["events"] if e["type"] == "xchg.exec"]
    out = os.path.join(node.home, "result-%s.json" % rq["tx"][:8])
    node.cli(["exchange", "result", "--from", "alice", "--request", rq["tx"], "--out", out])
    with open(out) as f:
        result = json.load(f)
    return rq["tx"], (ex[0]["patients"] if ex else None), result, res


def run(t, node, tmp):
    for k in ("patient1", "patient2", "patient7", "patient7b", "stranger", "patients"):
        r = run_cli(["keys", "new", k, "--home", node.home])
        t.ok(r.returncode == 0, "key %s created" % k, r.stderr)
    node.cli(["tx", "transfer", "--from", "clinic", "--to", "node", "--asset", "csc", "--amount", "10", "--wait"])
    clinic, alice, bob, execu = (node.address(k) for k in ("clinic", "alice", "bob", "node"))
    rows = [("P%d" % n, 30 + 2 * n, 110 + 3 * n) for n in range(1, 15)]
    data, asset, pub = offer_asset(t, node, tmp, "cohort", rows)

    # ---- consent for an asset not on offer, and registration there -------------------------
    other = os.path.join(tmp, "other.csv")
    write_table(other, rows[:3])
    r, pub2 = node.cli_json(["data", "add", other, "--key", "clinic", "--price", "1", "--name", "not offered"])
    fake = blake2b256(b"P1", "guess").hex()
    r = node.cli(["exchange", "consent", "--from", "stranger", "--asset", pub2["asset_id"], "--patient", fake])
    t.ok(r.returncode == 1 and "not on offer" in r.stderr, "consent for an asset not on offer: refused", r.stderr)
    r = node.cli(["exchange", "patients", "--from", "clinic", "--asset", pub2["asset_id"], "--data", other,
                  "--keys", "/dev/null", "--out", os.path.join(tmp, "x")])
    t.ok(r.returncode != 0, "registering patients of an asset not on offer: nothing sent", r.stderr)

    # ---- a stranger binds a patient's consent to its own key first -------------------------
    # the stranger cannot compute the commitment of "P1" (no salt key) and, even knowing it,
    # cannot give consent for an unregistered commitment nor register it to itself
    r = node.cli(["exchange", "consent", "--from", "stranger", "--asset", asset, "--patient", fake])
    t.ok(r.returncode == 1 and "is not registered" in r.stderr and "LB_ENOTFOUND" in r.stderr,
         "consent for an unregistered commitment: refused", r.stderr)
    keys = {"P%d" % n: "patients" for n in range(1, 14)}  # P14 is never registered
    keys.update({"P1": "patient1", "P2": "patient2", "P7": "patient7"})
    cards = register(t, node, tmp, asset, data, keys, "the owner registers 13 patients' consent keys")
    # the commitments are public from here on (the registration tx): the stranger uses them
    p1, p2, p7 = (commit(node.home, asset, x) for x in ("P1", "P2", "P7"))
    grab = addr_bytes(node.address("stranger"))
    st, j = raw(node, "stranger", PATIENTS, asset + uvarint(1).hex() + p1 + grab.hex())
    t.ok(st != 202 and "wrong owner" in json.dumps(j), "a stranger cannot register a patient to its own key", j)
    st, j = raw(node, "clinic", PATIENTS, asset + uvarint(1).hex() + p1 + grab.hex())
    t.ok(st != 202 and "already registered" in json.dumps(j),
         "the owner cannot re-register a patient to another key (rebinding is the patient's act)", j)
    r = node.cli(["exchange", "consent", "--from", "stranger", "--asset", asset, "--patient", p1])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr, "a stranger cannot give P1's consent", r.stderr)
    r = node.cli(["exchange", "consent", "--from", "patient1", "--opening", cards["P1"]])
    t.ok(r.returncode == 0, "the real patient gives its consent with its opening card", r.stderr)
    st, c = node.get("/v1/exchange/consents/%s/%s" % (asset, p1))
    t.ok(st == 200 and c["status"] == "given" and c["key"] == node.address("patient1"),
         "P1's consent: given, bound to the patient's key", c)

    # ---- the owner cannot make itself a patient's consent key; a second run adds patients ----
    kf = os.path.join(tmp, "keys-more.csv")
    with open(kf, "w") as f:
        f.write("P14,%s\n" % clinic)
    r = node.cli(["exchange", "patients", "--from", "clinic", "--asset", asset, "--data", data, "--keys", kf,
                  "--out", os.path.join(tmp, "cards-more")])
    t.ok(r.returncode == 1 and "cannot be a patient's consent key" in r.stderr,
         "the owner's own key as a patient's consent key: refused", r.stderr)
    with open(kf, "w") as f:
        f.write("P1,%s\nP14,%s\n" % (node.address("patient1"), node.address("patients")))
    r, more = node.cli_json(["exchange", "patients", "--from", "clinic", "--asset", asset, "--data", data,
                              "--keys", kf, "--out", os.path.join(tmp, "cards-more")])
    t.ok(r.returncode == 0 and more["registered"] == 1 and more["already_registered"] == 1,
         "a second registration run adds the new patient and keeps the registered one", r.stdout + r.stderr)
    with open(kf, "w") as f:
        f.write("P1,%s\n" % node.address("stranger"))
    r = node.cli(["exchange", "patients", "--from", "clinic", "--asset", asset, "--data", data, "--keys", kf,
                  "--out", os.path.join(tmp, "cards-more")])
    t.ok(r.returncode == 1 and "already registered with another key" in r.stderr,
         "the owner cannot move a registered patient to another key", r.stderr)

    # ---- a forged opening card is refused before anything is sent ----------------------------
    card = json.load(open(cards["P2"]))
    card["local_id"] = "P3"
    forged = os.path.join(tmp, "forged.json")
    with open(forged, "w") as f:
        json.dump(card, f)
    r = node.cli(["exchange", "consent", "--from", "patient2", "--opening", forged])
    t.ok(r.returncode == 1 and "does not open" in r.stderr, "a forged opening card is refused", r.stderr)

    # ---- a stranger revokes another patient's consent -----------------------------------------
    for local, k in sorted(keys.items()):
        if local not in ("P1", "P12", "P13"):  # P12 never consents; P13 will be revoked
            r = node.cli(["exchange", "consent", "--from", k, "--opening", cards[local]])
            if r.returncode:
                t.ok(False, "%s gives consent" % local, r.stderr)
    node.cli(["exchange", "consent", "--from", "patients", "--opening", cards["P13"]])
    r = node.cli(["exchange", "consent", "--from", "stranger", "--asset", asset, "--patient", p2, "--revoke"])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr, "a stranger cannot revoke P2's consent", r.stderr)
    st, c = node.get("/v1/exchange/consents/%s/%s" % (asset, p2))
    t.eq(c["status"], "given", "P2's consent is still given")

    # ---- the owner revokes at the patient's request; nobody but the patient re-gives ---------
    r = node.cli(["exchange", "consent", "--from", "clinic", "--asset", asset, "--patient", "P7", "--revoke"])
    t.ok(r.returncode == 0, "the owner revokes P7's consent on the patient's behalf", r.stderr)
    r = node.cli(["exchange", "consent", "--from", "stranger", "--asset", asset, "--patient", p7])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr, "a stranger cannot re-give the consent the owner revoked",
         r.stderr)
    r = node.cli(["exchange", "consent", "--from", "clinic", "--asset", asset, "--patient", "P7"])
    t.ok(r.returncode == 1 and "never a consent" in r.stderr, "the owner cannot record a consent", r.stderr)
    st, j = raw(node, "clinic", CONSENT, asset + commit(node.home, asset, "P12") + "01")
    t.ok(st != 202 and "never a consent" in json.dumps(j), "... nor for a patient who never consented (raw tx)", j)
    node.cli(["exchange", "consent", "--from", "clinic", "--asset", asset, "--patient", "P13", "--revoke"])

    # ---- rebind: the patient moves its consent to a new key ------------------------------------
    r = node.cli(["exchange", "consent", "--from", "stranger", "--asset", asset, "--patient", p7, "--rebind",
                  "stranger"])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr, "a stranger cannot rebind P7's consent to itself", r.stderr)
    r = node.cli(["exchange", "consent", "--from", "clinic", "--asset", asset, "--patient", p7, "--rebind",
                  "stranger"])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr, "nor can the owner", r.stderr)
    r = node.cli(["exchange", "consent", "--from", "patient7", "--opening", cards["P7"], "--rebind", "patient7b"])
    t.ok(r.returncode == 0, "P7 rebinds its consent to its new key", r.stderr)
    r = node.cli(["exchange", "consent", "--from", "patient7", "--opening", cards["P7"]])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr, "the old key is refused after the rebind", r.stderr)
    st, c = node.get("/v1/exchange/consents/%s/%s" % (asset, p7))
    t.ok(c["key"] == node.address("patient7b") and c["status"] == "revoked",
         "P7: bound to the new key, still revoked", c)

    # ---- opt-in run: only the consenting patients ------------------------------------------
    # given: P1-P6, P8-P11 (10); registered without consent: P12, P14; revoked: P7, P13
    used = ["P%d" % n for n in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11)]
    st, j = raw(node, "node", EXEC, exec_payload(find_request(t, node, asset), alice, clinic, bob, execu,
                                                 [commit(node.home, asset, "P12")], 2 * M, 1 * M))
    t.ok(st != 202 and "no consent" in json.dumps(j), "the chain refuses an execution listing a patient without consent", j)
    req, pats, result, res = run_once(t, node, asset, data, "opt-in run")
    t.eq(sorted(pats or []), sorted(commit(node.home, asset, x) for x in used),
         "the exec record lists exactly the 10 consenting patients, by commitment")
    t.eq((result.get("n"), res["patients_used"], res["patients_left_out"], res["sandbox"]["rows_left_out"]),
         (10, 10, 4, 4), "the result describes 10 patients; 4 left out inside the sandbox")
    kept = [x for x in rows if x[0] in used]
    col = {c["name"]: c for c in result.get("columns", [])}
    t.ok(abs(col["age"]["mean"] - statistics.mean(x[1] for x in kept)) < 1e-9,
         "the mean age is that of the consenting patients only", result)

    # ---- membership: guessed local ids test nothing --------------------------------------------
    guesses = ["P%d" % n for n in range(0, 200)] + ["p%d" % n for n in range(0, 50)] + [str(n) for n in range(200)]
    a = bytes.fromhex(asset)
    guessed = set()
    for g in guesses:
        guessed.add(blake2b256(a + g.encode(), "LEBEN-patient-v1").hex())  # the old pseudonym
        guessed.add(blake2b256(a + bytes(32) + g.encode(), "LEBEN-patient-v2").hex())  # no salt
        guessed.add(blake2b256(a + blake2b256(a + g.encode(), "LEBEN-patient-salt-v1") + g.encode(),
                               "LEBEN-patient-v2").hex())  # salt key guessed empty
    st, alog = node.get("/v1/exchange/log/" + asset)
    public = json.dumps(alog)
    hits = [h for h in guessed if h in public]
    t.ok(pats and not set(pats) & guessed and not hits,
         "hashing %d guessed local ids finds nothing in the exec record or the asset's history" % len(guesses), hits)
    t.ok(not any('"%s"' % x[0] in public for x in rows),
         "no local patient id appears in the asset's public history")

    # ---- opt-out offer: patients without a record are used, revoked ones are not ---------------
    r = node.cli(["exchange", "offer", "--from", "clinic", "--asset-tx", pub["tx"], "--price", "1", "--opt-out"])
    t.ok(r.returncode == 2 or (r.returncode == 1 and "legal-basis" in r.stderr),
         "--opt-out without a legal basis: refused before anything is sent", r.stderr)
    rows2 = [("Q%d" % n, 40 + n, 120 + n) for n in range(1, 13)]
    data2, asset2, _ = offer_asset(t, node, tmp, "registry", rows2,
                                   ["--opt-out", "--legal-basis", "Cancer Registry Act s. 12 (research without consent)"])
    st, o2 = node.get("/v1/exchange/offers/" + asset2)
    t.eq(o2.get("consent"), "opt-out", "the offer records opt-out")
    st, log2 = node.get("/v1/exchange/log/" + asset2)
    offer_tx = [e for e in log2["events"] if e["type"] == "xchg.offer"][-1]
    t.eq(offer_tx["details"].get("legal_basis"), "Cancer Registry Act s. 12 (research without consent)",
         "the legal basis is recorded on the offer")
    cards2 = register(t, node, tmp, asset2, data2, {"Q1": "patient1", "Q2": "patient2"},
                      "two of the registry's patients registered")
    r = node.cli(["exchange", "consent", "--from", "patient2", "--opening", cards2["Q2"], "--revoke"])
    t.ok(r.returncode == 0, "Q2 opts out", r.stderr)
    req2, pats2, result2, res2 = run_once(t, node, asset2, data2, "opt-out run")
    want2 = sorted(commit(node.home, asset2, "Q%d" % n) for n in range(1, 13) if n != 2)
    t.eq(sorted(pats2 or []), want2, "opt-out: every patient but the one who revoked is used (11)")
    t.eq(result2.get("n"), 11, "the opt-out result describes 11 patients")

    # ---- views of private parts are logged: asset and patient ---------------------------------
    p3 = commit(node.home, asset, "P3")
    r = node.cli(["data", "get", asset, "--out", os.path.join(tmp, "got.csv"), "--patient", "P3"])
    t.ok(r.returncode == 0 and "view logged in tx" in r.stdout, "data get: the raw data is opened once the view is logged",
         r.stdout + r.stderr)
    r, shown = node.cli_json(["data", "show", asset, "--private", "--patient", p3])
    t.ok(r.returncode == 0 and shown and len(shown.get("view_tx", "")) == 64,
         "data show --private: the private part is opened once the view is logged", r.stdout + r.stderr)
    st, alog = node.get("/v1/exchange/log/" + asset)
    views = [e for e in alog["events"] if e["type"] == "xchg.view"]
    t.ok(len(views) == 2 and {v["details"]["part"] for v in views} == {"raw data", "private description"}
         and all(v["by"] == execu for v in views), "both views are in the asset's history, by the viewing node", views)
    st, plog = node.get("/v1/exchange/log/" + p3)
    t.eq([e["type"] for e in plog["events"]].count("xchg.view"), 2, "... and in patient P3's history")
    r = node.cli(["data", "get", asset, "--out", os.path.join(tmp, "fake.csv"), "--patient", fake])
    t.ok(r.returncode == 1 and "not registered" in r.stderr and not os.path.exists(os.path.join(tmp, "fake.csv")),
         "a view naming an unregistered commitment is refused, and nothing is opened", r.stderr)
    # no log entry, no view: with the node unreachable nothing is opened
    out = os.path.join(tmp, "nolog.csv")
    r = run_cli(["data", "get", asset, "--out", out, "--home", node.home, "--node", "http://127.0.0.1:9"])
    t.ok(r.returncode != 0 and not os.path.exists(out) and "nothing was opened" in r.stderr,
         "without a log entry the raw data is not opened", r.stderr)

    node.stop()
    r = run_cli(["verify", "--home", node.home])
    t.ok(r.returncode == 0, "leben verify replays the whole history", r.stdout + r.stderr)


def find_request(t, node, asset):
    """An approved request on asset (the allow-list approves stats at once)."""
    r, rq = node.cli_json(["exchange", "request", "--from", "alice", "--asset", asset, "--algorithm",
                            "builtin:stats", "--params", PARAMS, "--purpose", "probe"])
    t.ok(r.returncode == 0 and rq["status"] == "approved", "a request approved by the allow-list", r.stderr)
    return rq["tx"]


if __name__ == "__main__":
    main()
